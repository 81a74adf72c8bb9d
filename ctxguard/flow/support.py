"""Is a tool call supported by what the user (or the system) actually asked for?

Provenance alone misses attacks whose arguments are short ids or text the model writes itself
("delete file 13", "grant Amy access"): no argument traces back to the injection. The second signal
is whether the trusted instruction names the call's action (a verb of the same family: "email" for
``send_email``, "pay" for ``transfer_funds``) or one of its argument values. The firewall asks this
only for side-effect and egress calls made while the session holds injected or untrusted-derived
content; an unsupported call then goes to the policy (default: require approval).

Deliberately simple and explainable: a verb-family table and word overlap, no model. It errs towards
"supported" when the user used the action's words, because blocking the user's own requests is the
costlier error for them; the provenance rules still apply to the arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._memo import short_string_cache
from .._patterns import compile_linear
from .provenance import MIN_VALUE_CHARS, fold

if TYPE_CHECKING:  # request.py builds on this module's verb families
    from .request import Request

_WORD = compile_linear(r"[A-Za-z]+")
_CAMEL = compile_linear(r"[A-Z]+[a-z]*|[a-z]+")

# Verb families: an instruction using any member supports a tool named with any other member.
VERB_FAMILIES: tuple[frozenset[str], ...] = tuple(frozenset(f) for f in (
    {"send", "email", "mail", "forward", "message", "text", "sms", "notify", "share", "reply", "invite"},
    {"delete", "remove", "erase", "clear", "trash", "cancel", "unfollow", "unlike", "revoke", "drop"},
    {"transfer", "pay", "wire", "deposit", "withdraw", "refund"},
    {"grant", "authorize", "authorise", "permit", "unlock"},  # not "give": "give me a summary"
    {"create", "add", "make", "schedule", "book", "register", "set", "setup", "reserve"},
    {"update", "change", "modify", "edit", "move", "rename", "organize", "organise", "adjust", "configure",
     "control", "turn", "switch", "manage"},
    {"post", "publish", "tweet", "retweet", "comment", "review", "upload"},
    {"execute", "run", "install", "launch", "start"},
    {"buy", "purchase", "order", "checkout"},
    {"follow", "like", "subscribe"},
    {"download", "save", "export", "backup", "copy"},
    {"lock", "close", "shut", "disable", "stop", "block"},
    {"open", "enable", "play"},
))
_FAMILY_OF: dict[str, int] = {w: i for i, fam in enumerate(VERB_FAMILIES) for w in fam}
# Words that are as often nouns ("read my latest email", "my order history"): in an instruction they
# count as the action only where a verb stands: first in a sentence or after these words.
AMBIGUOUS = frozenset({"email", "mail", "message", "text", "order", "review", "comment", "post", "set",
                       "book", "like", "copy", "block", "start", "play", "run", "reply", "save"})
_VERB_CONTEXT = frozenset({"to", "please", "and", "then", "you", "can", "could", "will", "would", "i", "we",
                           "ll", "also", "just", "now", "must", "should", "kindly"})


def _stem(word: str) -> str:
    w = word.lower()
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 2 and w.endswith(suffix):
            stem = w[: -len(suffix)]
            if stem in _FAMILY_OF:
                return stem
            if suffix in ("ed", "ing") and stem + "e" in _FAMILY_OF:
                return stem + "e"
    return w


def tool_words(tool: str) -> list[str]:
    """``GmailSendEmail`` / ``send_email`` / ``send-email`` -> ["gmail", "send", "email"]."""
    return list(_tool_words(tool))


@short_string_cache(200)
def _tool_words(tool: str) -> tuple[str, ...]:
    """Cached: every check of a call reads its tool's words several times, and an agent has few tools."""
    return tuple(_stem(m.group(0)) for m in _CAMEL.finditer(tool))


def action_word(tool: str) -> str | None:
    """The word naming what a tool does: the last verb-family word in its name, preferring one that is
    not also a common noun. ``AugustSmartLockUnlockDoor`` -> "unlock" (not the vendor's "lock");
    ``GmailDeleteEmails`` -> "delete" (not the noun "email")."""
    words = [w for w in tool_words(tool) if w in _FAMILY_OF]
    plain = [w for w in words if w not in AMBIGUOUS]
    if plain:
        return plain[-1]
    # Only noun-verbs ("post_message", "reply_comment"): names put the verb first, then the object.
    return words[0] if words else None


def instruction_families(texts: Iterable[str]) -> set[int]:
    """Verb families the instructions use as verbs (ambiguous noun-verbs only in verb position)."""
    out: set[int] = set()
    for text in texts:
        prev = ""
        for sentence_start, m in _words_with_starts(text):
            w = _stem(m)
            fam = _FAMILY_OF.get(w)
            if fam is not None and (w not in AMBIGUOUS or sentence_start or prev in _VERB_CONTEXT):
                out.add(fam)
            prev = m.lower()
    return out


def _words_with_starts(text: str) -> Iterable[tuple[bool, str]]:
    last_end = 0
    for i, m in enumerate(_WORD.finditer(text)):
        gap = text[last_end:m.start()]
        yield i == 0 or any(c in ".!?\n:;" for c in gap), m.group(0)
        last_end = m.end()


@dataclass(frozen=True, slots=True)
class Support:
    supported: bool
    why: str  # "verb:<family word>", "value:<argument>", or "" when unsupported


def support(tool: str, values: Sequence[tuple[str, str]], instructions: Sequence[str]) -> Support:
    """Whether ``instructions`` (the user's and system's own words) ask for this call."""
    wanted = instruction_families(instructions)
    action = action_word(tool)
    if action is not None and _FAMILY_OF[action] in wanted:
        return Support(True, f"verb:{action}")
    path = value_written_in(values, instructions)
    if path is not None:
        return Support(True, f"value:{path}")
    return Support(False, "" if action is None else f"unasked:{action}")


def value_written_in(values: Sequence[tuple[str, str]], instructions: Sequence[str]) -> str | None:
    """The path of the first argument whose value the instructions spell out ("Log this: printer on
    floor 3 is jammed"), compared folded; None when there is none."""
    folded = [fold(t) for t in instructions]
    for path, value in values:
        v = fold(value)
        if len(v) >= MIN_VALUE_CHARS and any(v in t for t in folded):
            return path
    return None


# ---- authorisation grounded in the parsed request (ctxguard.flow.request) -----------------------------

# Argument names that say what a tool does when its name does not: a "recipient" is sent to, an
# "amount" is paid.
_PARAM_FAMILY = {
    "recipient": "send", "recipients": "send", "to": "send", "cc": "send", "bcc": "send", "subject": "send",
    "amount": "transfer", "iban": "transfer", "payee": "transfer", "beneficiary": "transfer",
}


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """What a framework knows about a tool: its name, its description, its argument names."""

    name: str
    description: str = ""
    parameters: tuple[str, ...] = ()


def tool_families(spec: ToolSpec) -> set[int]:
    """Verb families of a tool: its name's action word, the verbs opening its description's sentences
    ("Sends an e-mail ...", "Use this to wire money ..."), and argument names that imply one. The
    name's family alone when it has one: a description's other verbs ("returns", "lists") would widen
    what a request for it covers."""
    action = action_word(spec.name)
    if action is not None:
        return {_FAMILY_OF[action]}
    out: set[int] = set()
    for sentence in spec.description.replace("\n", ". ").split(". ")[:3]:
        words = [w.lower() for w in _WORD.findall(sentence)]
        for w in words[:6]:  # the verb of a description is near its start
            fam = _FAMILY_OF.get(_stem(w))
            if fam is not None and w not in ("use", "this", "tool"):
                out.add(fam)
                break
    for p in spec.parameters:
        hint = _PARAM_FAMILY.get(p.lower())
        if hint is not None:
            out.add(_FAMILY_OF[hint])
    return out


@dataclass(frozen=True, slots=True)
class Destination:
    path: str
    value: str
    untrusted: bool   # the value came from content below the user's trust
    in_request: bool  # the value is written in the trusted instructions
    pointed: bool     # the request refers to the content it came from ("the address in the invoice")

    @property
    def unvouched(self) -> bool:
        """From untrusted content, and neither written by the user nor pointed to by the request."""
        return self.untrusted and not self.in_request and not self.pointed


# Verbs too light to name an action on their own ("do what it says", "make it work").
_LIGHT_VERBS = frozenset({"do", "make", "get", "have", "be", "go", "take", "use", "let", "help", "see", "try",
                          "give", "put", "keep", "handle", "follow", "complete", "perform", "process", "run"})

BULK_VALUES = frozenset({"all", "*", "everything", "every", "any", "entire", "all events", "all files", "all items",
                         "all messages", "all emails", "all contacts", "everyone", "%", ".*", "/*", "/"})
_QUANTIFIERS = frozenset({"all", "every", "everything", "each", "entire", "whole", "everyone", "any"})


def _asks_for_all(instructions: Sequence[str]) -> bool:
    return any(w.lower() in _QUANTIFIERS for t in instructions for w in _WORD.findall(t))


@dataclass(frozen=True, slots=True)
class Authorisation:
    supported: bool
    why: str
    ambiguous: bool = False  # the offline checks cannot tell; a judge may decide


def authorise(spec: ToolSpec, values: Sequence[tuple[str, str]], request: Request, instructions: Sequence[str],
              destinations: Sequence[Destination] = (), *, delegation: str = "deny") -> Authorisation:
    """Whether the parsed ``request`` asks for this call.

    Supported when the request asks, un-negated, for one of the tool's verb families and every
    destination is either the user's own or from content the request pointed to; or when an argument
    value is written in the instructions. A call the request negates ("don't delete anything") is
    unsupported even if its words appear; a request that delegates is supported only when the policy
    says ``delegation: allow`` (``judge`` leaves it to the judge)."""
    families = tool_families(spec)
    if request.delegates and delegation == "allow":
        return Authorisation(True, "delegated")
    if families and _other_domain(spec, request):
        # "Delete the object files" does not ask to cancel calendar events, though both are removals.
        return Authorisation(False, "other_object", ambiguous=True)
    negated = [f for f in families if request.forbids(f)]
    wanted = [f for f in families if request.wants(f)]
    if wanted:
        bulk = [path for path, value in values if value.strip().lower() in BULK_VALUES]
        if bulk and not _asks_for_all(instructions):
            # "Cancel the dentist appointment" does not ask to cancel every event: a value that widens
            # the call to everything needs the request to say so.
            return Authorisation(False, f"bulk:{bulk[0]}", ambiguous=True)
        for d in destinations:
            if d.unvouched:
                return Authorisation(False, f"destination:{d.path}", ambiguous=True)
        return Authorisation(True, f"verb:{next(iter(VERB_FAMILIES[wanted[0]] & _named(spec)), 'asked')}")
    if negated:
        return Authorisation(False, "negated")
    # A verb of no family ("accept", "archive", "rsvp") supports a tool whose name carries it.
    named = _named(spec)
    same_verb = [a.verb for a in request.actions
                 if not a.negated and a.verb not in _LIGHT_VERBS and _stem(a.verb) in named]
    if same_verb and not any(d.unvouched for d in destinations):
        return Authorisation(True, f"verb:{same_verb[0]}")
    path = value_written_in(values, instructions)
    if path is not None:
        return Authorisation(True, f"value:{path}")
    if request.delegates and delegation == "judge":
        return Authorisation(False, "delegated", ambiguous=True)
    # A request whose own verb is of no family ("renew my subscription") may still mean this tool's
    # action (a payment): unsupported offline, but a judge, if there is one, is asked.
    unfamiliar = any(a.family is None and not a.negated and a.verb not in _LIGHT_VERBS and a.objects
                     for a in request.actions)
    return Authorisation(False, "unasked" if families else "unknown_action", ambiguous=not families or unfamiliar)


# What tools act on, in families of nouns: a request about one domain's objects does not ask for a
# tool acting on another's.
OBJECT_DOMAINS: tuple[frozenset[str], ...] = tuple(frozenset(d) for d in (
    {"event", "events", "meeting", "meetings", "calendar", "appointment", "appointments", "invite", "review"},
    {"file", "files", "folder", "folders", "directory", "document", "documents", "doc", "docs", "drive", "disk"},
    {"email", "emails", "mail", "message", "messages", "inbox", "mailbox", "reply", "sms", "text", "texts"},
    {"password", "passwords", "credential", "credentials", "login", "pin"},
    {"money", "payment", "payments", "fund", "funds", "transfer", "bill", "bills", "invoice", "invoices",
     "account", "iban", "rent"},
    {"post", "channel", "chat", "tweet", "status", "thread"},
))


# Domains a request must name for a tool acting on them: credentials.
_NAMED_ONLY = frozenset(i for i, d in enumerate(OBJECT_DOMAINS) if "password" in d)
_CONTENT_FAMILIES = frozenset({_FAMILY_OF["send"], _FAMILY_OF["transfer"], _FAMILY_OF["post"]})


_DOMAINS_OF: dict[str, set[int]] = {}
for _i, _domain in enumerate(OBJECT_DOMAINS):
    for _w in _domain:
        _DOMAINS_OF.setdefault(_w, set()).add(_i)


def _domain_of(words: Iterable[str]) -> set[int]:
    return {i for w in words for i in _DOMAINS_OF.get(w, ())}


def _other_domain(spec: ToolSpec, request: Request) -> bool:
    action = action_word(spec.name)
    if action is None or _FAMILY_OF[action] in _CONTENT_FAMILIES:
        return False  # what is sent, paid or posted is content, not what the tool acts on
    tool = _domain_of(w for w in tool_words(spec.name) if w not in _FAMILY_OF or w in AMBIGUOUS)
    if not tool:
        return False
    asked = _domain_of(request.wanted_objects)
    if tool & _NAMED_ONLY and not (_domain_of(request.nouns) & tool):
        # "Move my 1:1 with Carla" asks for an update, not for a new password: a tool acting on
        # credentials needs the request to name them, whatever else it names.
        return True
    return bool(asked) and not (asked & tool)


def _named(spec: ToolSpec) -> set[str]:
    return set(tool_words(spec.name))


def points_to_source(referents: Iterable[str], source: str) -> bool:
    """Whether words of a request name the kind of content ``source`` produced ("email" for
    ``tool:read_inbox``, "invoice" for ``tool:get_bills``): by the object domains of both."""
    name = source.split(":", 1)[-1]
    return bool(_domain_of(referents) & _domain_of(tool_words(name)))
