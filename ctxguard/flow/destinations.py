"""Which arguments of an egress call name where the data goes, whatever the tool calls them.

A tool's schema is the attacker's friend: ``send_email(to=...)`` is checked, but the same tool's
``reply_to``, ``forward_to``, ``headers.Bcc``, ``notifyUrl`` or ``cc_list`` carries the data just as
far. So an argument is a destination when

* the policy declares it (``tools.tools.<tool>.args.<name>.destination: true``), or
* a word of its name (split at ``_``, ``-``, ``.``, and camelCase) is a destination word ("to",
  "cc", "recipient", "webhook", "url", ...) and none is a content word ("body", "subject", "text"):
  ``email_body`` is content, ``recipient_email`` is a destination, or
* its whole value is shaped like destinations, whatever the name: one or more e-mail addresses or
  absolute URLs, alone or separated by commas, semicolons or spaces. A bare host name counts only
  under a destination-word name: "notes.md" and "setup.sh" are file names that happen to end in a
  country code.

Destinations that sit inside prose (a body that mentions an address) are not the tool's target: they
are judged by the URL checks and by provenance (a value from injected content blocks).
"""

from __future__ import annotations

from .._memo import short_string_cache
from .._patterns import compile_linear

_DESTINATION_WORDS = frozenset({
    "to", "cc", "bcc", "recipient", "recipients", "email", "emails", "mail", "mailto", "address", "addresses",
    "addr", "url", "urls", "uri", "uris", "endpoint", "endpoints", "webhook", "webhooks", "host", "hostname",
    "hosts", "domain", "domains", "destination", "destinations", "dest", "dst", "callback", "reply", "forward",
    "fwd", "notify", "href", "receiver", "receivers", "redirect", "invite", "invitee", "invitees", "attendee",
    "attendees", "channel", "channels", "room", "rooms", "handle", "handles", "share", "shared", "grantee",
    "grantees", "payee", "beneficiary", "iban", "account", "accounts",
})
_CONTENT_WORDS = frozenset({
    "body", "content", "contents", "text", "message", "msg", "subject", "title", "note", "notes", "comment",
    "description", "summary", "html", "markdown", "caption", "name", "label", "template", "format", "type",
})

_WORDS = compile_linear(r"[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
# One destination-shaped item: an e-mail address (optionally "mailto:"), an absolute URL, or a display
# form ("Eve" <eve@evil.net>). Items are split apart first, so each pattern is small and linear.
_ADDRESS = r"(?:mailto:)?[^\s@,;<>\"'()]{1,64}@[^\s@,;<>\"'()]{1,253}"
_URL = r"[A-Za-z][A-Za-z0-9+.\-]{0,15}:(?://|\\\\)[^\s,;<>\"']+"
_PLAIN_ITEM = compile_linear(f"(?:{_ADDRESS}|{_URL})")
_DISPLAY_ITEM = compile_linear(r"(?:\"[^\"]*\"|[^<>\"@]*)\s*<" + _ADDRESS + ">")
_ITEM_SEPARATORS = compile_linear(r"[,;]")
MAX_ITEMS = 500


def name_words(path: str) -> list[str]:
    """The words of an argument path: ``headers.replyTo`` -> ["headers", "reply", "to"]."""
    return list(_name_words(path))


@short_string_cache(200)
def _name_words(path: str) -> tuple[str, ...]:
    """Cached: a call's argument paths are read by several checks, and a tool has few of them."""
    return tuple(w.lower() for w in _WORDS.findall(path))


def named_as_destination(path: str) -> bool:
    words = set(name_words(path))
    return bool(words & _DESTINATION_WORDS) and not words & _CONTENT_WORDS


def shaped_as_destinations(value: str) -> bool:
    """Whether the whole value is e-mail addresses and/or absolute URLs, and nothing else."""
    if "@" not in value and ":" not in value:
        return False
    pieces = [p.strip() for p in _ITEM_SEPARATORS.split(value)]
    pieces = [p for p in pieces if p]
    if not pieces or len(pieces) > MAX_ITEMS:
        return False
    for piece in pieces:
        if _DISPLAY_ITEM.fullmatch(piece) is not None:
            continue
        words = piece.split()
        if len(words) > MAX_ITEMS or not all(_PLAIN_ITEM.fullmatch(w) is not None for w in words):
            return False
    return True


def is_destination(path: str, value: str, *, declared: bool = False) -> bool:
    """Whether this argument names where an egress call sends its data."""
    return declared or named_as_destination(path) or shaped_as_destinations(value)


__all__ = ["is_destination", "name_words", "named_as_destination", "shaped_as_destinations"]


def destination_items(value: str) -> list[str]:
    """The addresses and URLs in a destination value, each alone; the whole value when it has none."""
    items = [m.group(0).removeprefix("mailto:") for m in _PLAIN_ITEM.finditer(value[:100_000])][:MAX_ITEMS]
    return items or [value]
