"""The values the pipeline hands back: Action, Finding, Ruling, Decision.

They are frozen so an adapter cannot quietly loosen a decision after the firewall made it, and a
Finding never holds the matched value, only where it was and a keyed hash of it, so a Decision is
safe to log, print or put in an exception.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from types import MappingProxyType
from typing import Any

from .labels import Label


class Action(str, Enum):
    """What may happen to the content. Ordered by severity: a decision takes its most severe finding."""

    ALLOW = "allow"
    REDACT = "redact"
    REQUIRE_APPROVAL = "require_approval"
    BLOCK = "block"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]

    @staticmethod
    def most_severe(actions: list[Action]) -> Action:
        return max(actions, key=lambda a: _SEVERITY[a], default=Action.ALLOW)


_SEVERITY = {Action.ALLOW: 0, Action.REDACT: 1, Action.REQUIRE_APPROVAL: 2, Action.BLOCK: 3}


class Direction(str, Enum):
    """Where content is going; redaction strategies are chosen per direction."""

    INTO_MODEL = "into_model"
    INTO_MEMORY = "into_memory"
    INTO_TOOL = "into_tool"
    OUT_TO_USER = "out_to_user"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a detector or a flow check found, and nothing more: what to do about it is the
    decision table's answer (``ctxguard.policy.table``), so one policy gives one answer wherever the
    finding came from.

    ``kind`` is namespaced: ``pii:EMAIL_ADDRESS``, ``secret:AWS_ACCESS_KEY``, ``injection``,
    ``exfil:url``, ``provenance:hostile``, ``scope:tenant``, ``budget:tokens``. ``field`` names the
    tool argument the span lies in (empty for plain text). ``detector`` says which check found it.
    """

    detector: str
    kind: str
    start: int
    end: int
    score: float
    field: str = ""


@dataclass(frozen=True, slots=True)
class Ruling:
    """A finding with the decision table's answer for it: the action, the policy path that chose it,
    and a keyed hash of the matched text so two findings of one value can be correlated without
    revealing it. The finding's own fields read through (``ruling.kind``)."""

    finding: Finding
    action: Action
    rule: str
    value_hash: str = ""

    @property
    def detector(self) -> str:
        return self.finding.detector

    @property
    def kind(self) -> str:
        return self.finding.kind

    @property
    def start(self) -> int:
        return self.finding.start

    @property
    def end(self) -> int:
        return self.finding.end

    @property
    def score(self) -> float:
        return self.finding.score

    @property
    def field(self) -> str:
        return self.finding.field

    def to_dict(self) -> dict[str, Any]:
        f = self.finding
        return {
            "detector": f.detector,
            "kind": f.kind,
            "start": f.start,
            "end": f.end,
            "score": round(f.score, 4),
            "field": f.field,
            "value_hash": self.value_hash,
            "action": self.action.value,
            "rule": self.rule,
        }


def refusal(what: str, reason: str) -> str:
    """The one refusal sentence every adapter shows: "ctxguard blocked this <what>: <reason>"."""
    return f"ctxguard blocked this {what}: {reason}"


def first_refused(decisions: Iterable[Decision]) -> Decision | None:
    """The first decision that does not let its content through, or None: how several checks of one
    thing (the texts of one message, one tool result's admission and its output check) combine. One
    refusal withholds the whole."""
    return next((d for d in decisions if not d.allowed), None)


def _freeze(args: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if args is None else MappingProxyType(dict(args))


@dataclass(frozen=True, slots=True)
class Decision:
    """The firewall's answer for one piece of content or one tool call.

    ``text`` (or ``args`` for a tool call) is what may pass on: redacted where the policy redacts, the
    original where it allows, empty when blocked. In shadow mode ``action`` is what enforce mode would
    have done while ``text``/``args`` carry the original content and ``enforced`` is False.
    """

    action: Action
    text: str
    label: Label
    findings: tuple[Ruling, ...] = ()
    rule: str = ""
    reason: str = ""
    direction: Direction = Direction.INTO_MODEL
    tool: str = ""
    args: Mapping[str, Any] | None = None
    enforced: bool = True
    truncated: bool = False
    tokens: int = 0
    record_id: str = ""
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        object.__setattr__(self, "args", _freeze(self.args))
        object.__setattr__(self, "findings", tuple(self.findings))

    def with_record(self, record_id: str) -> Decision:
        """This decision, naming the audit record that holds it."""
        return replace(self, record_id=record_id)

    @property
    def allowed(self) -> bool:
        """True when the content may pass on (possibly rewritten)."""
        return self.action in (Action.ALLOW, Action.REDACT) or not self.enforced

    @property
    def blocked(self) -> bool:
        return self.enforced and self.action is Action.BLOCK

    def refusal(self, what: str | None = None) -> str:
        """What a framework shows instead of content this decision did not let through: one sentence,
        the same in every adapter, naming the finding kind or rule (never a value). ``what`` names the
        thing refused when the direction alone does not ("tool result")."""
        what = what or {Direction.OUT_TO_USER: "answer", Direction.INTO_TOOL: "call"}.get(self.direction, "content")
        return refusal(what, self.reason or self.action.value)

    def shown_to_model(self) -> str:
        """What the model reads in place of this content: the decision's text, or one notice (the same
        in every adapter) that it was withheld, naming the reason, never a value."""
        if self.allowed:
            return self.text
        return f"[ctxguard withheld this content: {self.reason or self.action.value}]"

    def summary(self) -> dict[str, Any]:
        """A log-safe dict: no raw text, no argument values."""
        return {
            "action": self.action.value,
            "direction": self.direction.value,
            "tool": self.tool,
            "rule": self.rule,
            "reason": self.reason,
            "enforced": self.enforced,
            "truncated": self.truncated,
            "tokens": self.tokens,
            "label": self.label.to_dict(),
            "findings": [f.to_dict() for f in self.findings],
        }

    def __repr__(self) -> str:
        kinds = ",".join(sorted({f.kind for f in self.findings}))
        return (
            f"Decision(action={self.action.value!r}, direction={self.direction.value!r}, "
            f"rule={self.rule!r}, reason={self.reason!r}, findings=[{kinds}], enforced={self.enforced})"
        )
