"""The last two steps: remember what entered the context, and write the audit record."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._patterns import compile_linear
from ..audit import log_safe_decision, log_safe_source
from ..decision import Action, Decision
from ..flow.destinations import shaped_as_destinations
from ..flow.provenance import is_identifier
from .check import Check

if TYPE_CHECKING:
    from ..session import Session

# How far an injection's hostile scope reaches: the lines holding the flagged span, and the next line
# when it carries the payload ("... to the account below." / the IBAN on its own line). Values elsewhere in the
# same e-mail or page are untrusted, not hostile: they go through the support check (is the call
# asked for, is its destination the user's or from content the request pointed to), so a bill's own
# IBAN is not blocked because someone appended an instruction two lines below it. A single line
# longer than this many characters is scoped to this many characters around the span.
MAX_HOSTILE_SCOPE = 4000

_POINTS_FORWARD = compile_linear(r"(?i)\b(?:below|following|beneath|underneath|next\s+line|as\s+follows)\b")


def remember(session: Session, check: Check, decision: Decision) -> None:
    """Keep what entered the context, with its injected lines, for later provenance questions."""
    if check.op != "admit" or (decision.action is Action.BLOCK and session.policy.enforce):
        return
    body, label = check.body, check.labelled
    if check.tokens:
        session.budget.charge(decision.label.source, check.tokens)
    hostile = [line_around(body, f.start, f.end) for f in decision.findings if f.kind == "injection"]
    if hostile and session.authoriser.delegated_to(body, label):
        # The user said "do what this says" and the policy allows delegation: its instructions are
        # what the user asked for, so its values are untrusted, not hostile. The finding stays in
        # the decision and the audit record.
        hostile = []
    # The segment keeps its source's trust; only the injected lines are hostile, so a user's value
    # that happens to sit elsewhere in the same tool output is judged by the source's trust.
    session.segments.add(body, label, hostile)
    policy = session.policy
    conf = policy.model.exfiltration.confidential_from
    if policy.confidentiality.rank(decision.label.confidentiality) >= policy.confidentiality.rank(conf):
        session.fingerprints.add(body)


def record(session: Session, check: Check, decision: Decision) -> Decision:
    """One audit record per decision, keyed hashes in place of content (a plain SHA-256 of a one-value
    tool call, an e-mail address or a card number, could be reversed by hashing guesses)."""
    hasher = session.content_hmac
    summary = log_safe_decision(decision.summary(), hasher)
    content_hmac = hasher(check.text)
    summary["label"]["sha256"] = content_hmac if summary["label"].get("sha256") else ""
    event: dict[str, Any] = {
        "type": "decision", "op": check.op, "source": log_safe_source(check.source, hasher),
        "content_hmac": content_hmac, "chars": len(check.text), "decision": summary,
    }
    if check.args is not None:
        event["args"] = sorted(log_safe_source(str(k), hasher) for k in check.args)
    return decision.with_record(session.audit_append(event))


def introduces_next_line(line: str, following: str) -> bool:
    """Whether an injected line's payload is the next line: the line ends in ':' or points forward
    ("the account below"), or the next line is nothing but an identifier, address or URL."""
    if line.rstrip().endswith(":") or _POINTS_FORWARD.search(line[-400:]) is not None:
        return True
    nxt = following.strip()
    return bool(nxt) and len(nxt) <= 200 and (is_identifier(nxt) or shaped_as_destinations(nxt))


def line_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The hostile scope of an injected span: its lines, plus the next one when it carries the payload."""
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    e = len(text) if e < 0 else e
    if e < len(text):
        nxt = text.find("\n", e + 1)
        nxt = len(text) if nxt < 0 else nxt
        if introduces_next_line(text[s:e], text[e + 1:nxt]):
            e = nxt
    if e - s > MAX_HOSTILE_SCOPE:
        s, e = max(s, start - MAX_HOSTILE_SCOPE // 2), min(e, end + MAX_HOSTILE_SCOPE // 2)
    return s, e
