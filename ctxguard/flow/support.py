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

from .._patterns import compile_linear
from .provenance import MIN_VALUE_CHARS, fold

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
    return [_stem(m.group(0)) for m in _CAMEL.finditer(tool)]


def action_word(tool: str) -> str | None:
    """The word naming what a tool does: the last verb-family word in its name, preferring one that is
    not also a common noun. ``AugustSmartLockUnlockDoor`` -> "unlock" (not the vendor's "lock");
    ``GmailDeleteEmails`` -> "delete" (not the noun "email")."""
    words = [w for w in tool_words(tool) if w in _FAMILY_OF]
    plain = [w for w in words if w not in AMBIGUOUS]
    chosen = plain or words
    return chosen[-1] if chosen else None


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
    folded = [fold(t) for t in instructions]
    for path, value in values:
        v = fold(value)
        if len(v) >= MIN_VALUE_CHARS and any(v in t for t in folded):
            return Support(True, f"value:{path}")
    return Support(False, "" if action is None else f"unasked:{action}")
