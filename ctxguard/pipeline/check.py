"""One check's state as it moves through the steps, and the type of a step.

Every entry point is a list of steps over one ``Check``:

    prepare (label, normalise) -> detect (findings only) -> decide -> transform -> remember -> record

A detect step only appends findings (it may also fit the text to a budget, and says so in a
finding); only ``decide`` asks the policy what the findings mean; only ``transform`` rewrites the
text or arguments; only ``record`` writes the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..decision import Action, Decision, Direction, Finding, Ruling
from ..labels import Label
from ..policy.table import Verdict

if TYPE_CHECKING:
    from ..session import Session


@dataclass(slots=True)
class Check:
    """What one call to an entry point knows so far."""

    op: str  # "admit", "output", "derived", "tool_call": the audit record's op
    direction: Direction
    text: str  # the content as handed over (for tool calls: the values joined), after normalising
    source: str
    label: Label | None = None
    metadata: Mapping[str, Any] | None = None  # signed label entries handed in with admitted content
    confidentiality: str | None = None
    tool: str = ""
    args: Mapping[str, Any] | None = None
    values: list[tuple[str, str]] = field(default_factory=list)  # (path, string) of every argument value
    body: str = ""  # the text the checks read and the transform rewrites (after a budget truncation)
    tokens: int = 0
    findings: list[Finding] = field(default_factory=list)
    # decide's answer
    rulings: list[Ruling] = field(default_factory=list)
    verdicts: list[Verdict] = field(default_factory=list)
    action: Action = Action.ALLOW
    rule: str = ""
    reason: str = ""
    decided_label: Label | None = None
    # transform's answer
    out_text: str = ""
    out_args: dict[str, Any] | None = None
    decision: Decision | None = None

    @property
    def labelled(self) -> Label:
        if self.label is None:
            raise RuntimeError("a check step ran before the label step")
        return self.label


class Step(Protocol):
    """One step of an entry point: reads and extends the check, using the session's state."""

    def __call__(self, session: Session, check: Check, /) -> None: ...
