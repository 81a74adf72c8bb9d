"""Links and fetches that carry data out, found the way browsers, mail clients and renderers find them.

An answer or a tool argument leaks through any URL a client will fetch without a click (an image, a
stylesheet, a frame) or that a user may click. Matching one markdown form with one regex misses the
rest of the class, so the channels are read with real parsers:

* **HTML** with an HTML5 parser (lexbor, via selectolax): attribute values arrive entity-decoded
  (``&#104;ttps:``, ``&colon;``), so every URL attribute (``src``, ``srcset``, ``poster``,
  ``background``, ``data``, ``href``/``xlink:href`` on SVG and ``<link>``, ``action``) and every CSS
  ``url()``/``@import`` in ``style`` attributes and ``<style>`` blocks is seen as the browser sees it;
* **markdown**: inline and reference-style images and links (``![x][r]`` with ``[r]: url``),
  autolinks, bare URLs and scheme-relative ``//host`` sources;
* **URLs** parsed by the WHATWG URL standard (ada): a backslash in the authority
  (``https://evil.net\\@acme.com``) goes to ``evil.net``, tabs and newlines in a scheme are dropped,
  hosts come out lower-case and IDNA/punycode-encoded, so a look-alike host never equals an allowed
  one. Relative URLs resolve against the page's own origin and fetch nothing new.

Each check returns findings with spans into the text it was given (the tag or URL when known).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import unquote

from .._patterns import compile_linear
from ..decision import Finding
from ..policy.compiled import Glob

if TYPE_CHECKING:
    from .copies import Fingerprints

# Bare URLs: any scheme-looking prefix with "//" or a backslash after it (clients accept both).
_URL = compile_linear(r"(?i)\b(?:https?|ftp|wss?)\s{0,2}:\s{0,2}[/\\]{2}[^\s<>\"'`)\]]+")
_SCRIPT_URL = compile_linear(r"(?i)\b(?:javascript|vbscript)\s{0,2}:[^\s<>\"'`]+")
_MD_IMAGE = compile_linear(r"!\[[^\]\n]{0,1000}\]\(\s{0,10}<?([^\s)>]+)")
_MD_LINK = compile_linear(r"(?:^|[^!])\[[^\]\n]{0,1000}\]\(\s{0,10}<?([^\s)>]+)")
_MD_REF_USE = compile_linear(r"(!?)\[([^\]\n]{0,1000})\]\[([^\]\n]{0,1000})\]")
_MD_REF_DEF = compile_linear(r"(?m)^[ \t]{0,3}\[([^\]\n]{1,999})\]:[ \t]{0,10}<?([^\s>]+)")
_CSS_URL = compile_linear(
    r"(?i)(?:url\(\s{0,10}['\"]?\s{0,10}([^'\")\s]+)|@import\s{1,10}['\"]([^'\"]+))"
)
_EMAIL = compile_linear(r"[\w.+\-]{1,64}@([\w\-]{1,63}(?:\.[\w\-]{1,63}){1,10})")
_HTML_HINT = compile_linear(r"<[A-Za-z!/?]")
_SRCSET_SPLIT = compile_linear(r",\s*")

# Where an HTML attribute makes the client fetch by itself, and where it needs a click.
_FETCH_ATTRS = frozenset({"src", "srcset", "poster", "background", "data", "lowsrc", "dynsrc", "imagesrcset"})
_FETCH_HREF_TAGS = frozenset({"link", "image", "use", "feimage", "script"})
_CLICK_ATTRS = frozenset({"href", "action", "formaction", "cite", "ping"})
_ORIGIN = "https://ctxguard.invalid/"  # stands in for the page's own origin when resolving relative URLs
_ORIGIN_HOST = "ctxguard.invalid"
MAX_HTML_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class Link:
    """A URL a client would fetch (``fetched``) or follow on a click, and where it sits in the text."""

    url: str
    fetched: bool
    start: int
    end: int


def parse_host(url: str) -> tuple[str, str] | None:
    """(scheme, host) of ``url`` by the WHATWG rules, resolved against the page origin; None when it
    does not parse. A relative URL gives the origin's host, which callers treat as same-origin."""
    import ada_url

    try:
        joined = ada_url.join_url(_ORIGIN, url.strip())
        parsed = ada_url.parse_url(joined)
    except ValueError:
        return None
    return str(parsed["protocol"]).rstrip(":").lower(), str(parsed["hostname"]).lower().rstrip(".")


def _ascii_host(pattern: str) -> str:
    """An allowlist entry in the form hosts are compared in (IDNA), leaving glob characters alone."""
    if pattern.isascii():
        return pattern.lower()
    try:
        return pattern.encode("idna").decode("ascii").lower()
    except UnicodeError:
        return pattern.lower()


def host_allowed(host: str, allowed: Sequence[Glob]) -> bool:
    """A host is allowed when it matches a pattern, or is a subdomain of a plain (wildcard-free) domain:
    "acme.com" allows "chat.acme.com", as a user writing it would expect."""
    host = host.lower().rstrip(".")
    if not host:
        return False
    for g in allowed:
        if g.matches(host):
            return True
        plain = _ascii_host(g.pattern.lstrip("."))
        if not any(c in g.pattern for c in "*?[") and (host == plain or host.endswith("." + plain)):
            return True
    return False


# A host label that is a long run of hex or base32-ish characters carries data, not a name: DNS lookups
# of such names exfiltrate even when the parent domain is allowed (a wildcard) or nothing is fetched.
_DNS_PAYLOAD = compile_linear(r"^(?:[0-9a-f]{24,63}|[a-z2-7]{32,63}|[A-Za-z0-9_-]{40,63})$")


def dns_payload(host: str) -> bool:
    labels = host.lower().rstrip(".").split(".")
    return any(_DNS_PAYLOAD.search(label) is not None and sum(c.isdigit() for c in label) >= 4
               for label in labels[:-2])


def _html_links(text: str) -> Iterator[Link]:
    """URLs in HTML as an HTML5 parser reads them (entities decoded, attributes as browsers see them)."""
    from selectolax.lexbor import LexborHTMLParser

    tree = LexborHTMLParser(text[:MAX_HTML_CHARS])
    root = tree.root
    if root is None:
        return
    for node in root.traverse(include_text=False):
        tag = (node.tag or "").lower()
        if tag == "style":
            for m in _CSS_URL.finditer(node.text(deep=True) or ""):
                yield Link(m.group(1) or m.group(2) or "", True, 0, len(text))
            continue
        attrs = node.attributes or {}
        for name, value in attrs.items():
            if not value:
                continue
            key = name.lower().rpartition(":")[2]  # xlink:href -> href
            if key in ("srcset", "imagesrcset"):
                for item in _SRCSET_SPLIT.split(value):
                    if item.strip():
                        yield Link(item.strip().split()[0], True, 0, len(text))
            elif key in _FETCH_ATTRS or (key == "href" and tag in _FETCH_HREF_TAGS):
                yield Link(value, True, 0, len(text))
            elif key in _CLICK_ATTRS:
                yield Link(value, False, 0, len(text))
            elif key == "style":
                for m in _CSS_URL.finditer(value):
                    yield Link(m.group(1) or m.group(2) or "", True, 0, len(text))
            elif key == "content" and (attrs.get("http-equiv") or "").lower() == "refresh":
                yield Link(value.partition("=")[2].strip(" '\""), True, 0, len(text))


def _markdown_links(text: str) -> Iterator[Link]:
    for m in _MD_IMAGE.finditer(text):
        yield Link(m.group(1), True, m.start(), m.end())
    for m in _MD_LINK.finditer(text):
        yield Link(m.group(1), False, m.start(1), m.end())
    if "]:" in text:
        refs: dict[str, tuple[str, int, int]] = {}
        for m in _MD_REF_DEF.finditer(text):
            refs.setdefault(" ".join(m.group(1).casefold().split()), (m.group(2), m.start(), m.end()))
        fetched: set[str] = set()
        for m in _MD_REF_USE.finditer(text):
            label = " ".join((m.group(3) or m.group(2)).casefold().split())
            if m.group(1) and label in refs:
                fetched.add(label)
        for label, (url, s, e) in refs.items():
            yield Link(url, label in fetched, s, e)
    # Shortcut and collapsed reference images (![label] alone) fetch their definition too.


def links(text: str) -> list[Link]:
    """Every URL in ``text`` that a client would fetch or follow, fetched ones marked."""
    out: list[Link] = []
    if "](" in text or "]:" in text or "][" in text:
        out += _markdown_links(text)
    if "<" in text and _HTML_HINT.search(text) is not None:
        out += _html_links(text)
    for m in _URL.finditer(text):
        out.append(Link(m.group(0), False, m.start(), m.end()))
    for m in _SCRIPT_URL.finditer(text):
        out.append(Link(m.group(0), False, m.start(), m.end()))
    return out


def _has_link_syntax(text: str) -> bool:
    return ("/" in text or "\\" in text or ":" in text) and ("//" in text or "\\\\" in text or "<" in text
                                                              or ":" in text)


def url_findings(
    text: str, allowed: Sequence[Glob], field: str = "", fingerprints: Fingerprints | None = None
) -> list[Finding]:
    """URLs, images and fetches that could carry data out.

    Flagged: anything fetched without a click (markdown/HTML/SVG images, srcset, CSS url(), frames)
    whose host is not allowed; any followed URL whose host is not allowed; ``javascript:`` URLs; a host
    with a data-carrying DNS label; and, with ``fingerprints``, a URL (to any host) whose path or query
    holds a copy of confidential context.
    """
    if not _has_link_syntax(text):
        return []
    out: list[Finding] = []
    seen: set[tuple[str, bool]] = set()
    found = links(text)
    fetched_urls = {lk.url for lk in found if lk.fetched}
    for lk in found:
        if (lk.url, lk.fetched) in seen or (not lk.fetched and lk.url in fetched_urls):
            continue
        seen.add((lk.url, lk.fetched))
        parsed = parse_host(lk.url)
        if parsed is None:
            continue
        scheme, host = parsed
        if scheme in ("javascript", "vbscript"):
            out.append(Finding("exfil", "exfil:url", lk.start, lk.end, 0.9, field=field))
            continue
        if scheme not in ("http", "https", "ftp", "ws", "wss") or host == _ORIGIN_HOST or not host:
            continue  # data:, mailto:, relative (same origin): nothing fetched from elsewhere
        if not host_allowed(host, allowed):
            kind = "exfil:markdown_image" if lk.fetched else "exfil:url"
            out.append(Finding("exfil", kind, lk.start, lk.end, 1.0 if lk.fetched else 0.9, field=field))
        elif dns_payload(host):
            out.append(Finding("exfil", "exfil:dns_payload", lk.start, lk.end, 0.9, field=field))
        if fingerprints is not None and (fingerprints.copies_in(lk.url) or fingerprints.copies_in(unquote(lk.url))):
            out.append(Finding("fingerprint", "exfil:confidential_copy", lk.start, lk.end, 1.0, field=field))
    return out


# Destinations with no host: a chat channel or handle, an IBAN, an account or phone number. The domain
# allowlist cannot apply to them; whether the call may send there is the provenance and support checks'
# question (a value from injected content, a destination the request did not point to).
_HOSTLESS = compile_linear(r"(?i)[#@][\w\-]{1,80}|[a-z]{2}[0-9]{2}(?:[ ]?[a-z0-9]){10,32}|[0-9][0-9 \-]{3,40}")


def destination_hosts(value: str) -> list[str]:
    """Hosts a destination value points at: URLs' hosts (WHATWG), e-mail domains, or the bare value
    (unless it is a destination with no host: a channel, handle, IBAN or account number)."""
    hosts: list[str] = []
    for m in _URL.finditer(value):
        parsed = parse_host(m.group(0))
        hosts.append(parsed[1] if parsed else "")
    hosts += [_ascii_host(m.group(1)) for m in _EMAIL.finditer(value)]
    bare = value.strip()
    if not hosts and bare and _HOSTLESS.fullmatch(bare) is None:
        hosts.append(bare)
    return [h.lower() for h in hosts]
