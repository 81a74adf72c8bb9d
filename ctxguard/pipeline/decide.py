"""The decide step: each finding's verdict from the policy's decision table, then the check's.

The check takes its most severe verdict (whole-check rules included); its reason names that
finding's kind or rule, never a value. Content with an injection finding leaves with the policy's
``trust.flagged`` level on its label.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..decision import Action, Finding, Ruling
from ..policy.table import Facts, Verdict
from ..redact.strategies import keyed_hash
from .check import Check

if TYPE_CHECKING:
    from ..session import Session

_VERBS = {Action.BLOCK: "blocked", Action.REDACT: "redacted", Action.REQUIRE_APPROVAL: "needs approval",
          Action.ALLOW: "allowed"}


def decide(session: Session, check: Check) -> None:
    policy = session.policy
    table = policy.decisions
    label = check.labelled
    tool_class = policy.tool(check.tool).cls if check.tool else None
    hash_key = session.firewall.signing_key
    for f in check.findings:
        verdict = table.decide(Facts(f.kind, f.detector, check.direction, check.source, label.trust, check.tool,
                                     tool_class, f.field))
        if not verdict.reported:
            continue
        value = _value_at(check, f)
        check.rulings.append(Ruling(f, verdict.action, verdict.rule, keyed_hash(hash_key, value) if value else ""))
        check.verdicts.append(verdict)
    whole = table.decide_whole(check.direction, check.source, label.trust, check.tool, tool_class)
    actions = [r.action for r in check.rulings] + ([whole.action] if whole else [])
    check.action = Action.most_severe(actions)
    injected = any(r.kind == "injection" for r in check.rulings)
    check.decided_label = label.evolve(trust=policy.model.trust.flagged) if injected else label
    # The reason names the most severe finding (or whole-check rule); never a value.
    top = max(zip(check.rulings, check.verdicts, strict=True), key=lambda rv: rv[0].action.severity, default=None)
    if whole and (top is None or whole.action.severity >= top[0].action.severity):
        check.rule, check.reason = whole.rule, whole.reason
    elif top is not None and top[0].action is not Action.ALLOW:
        check.rule, check.reason = top[0].rule, _reason(*top)
    elif injected:
        check.rule, check.reason = "detection.injection.on_detect", "possible prompt injection: marked, trust lowered"
    else:
        check.rule, check.reason = "", "no findings" if not check.rulings else "findings allowed by policy"


def _reason(ruling: Ruling, verdict: Verdict) -> str:
    where = f" in argument {ruling.field!r}" if ruling.field else ""
    why = f" ({verdict.reason})" if verdict.reason else ""
    return f"{ruling.kind}{where}: {_VERBS[ruling.action]}{why}"


def _value_at(check: Check, f: Finding) -> str:
    if f.end <= f.start:
        return ""
    if check.op == "tool_call":
        for path, value in check.values:
            if path == f.field:
                return value[f.start:f.end]
        return ""
    return check.body[f.start:f.end]
