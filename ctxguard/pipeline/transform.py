"""The transform step: what may pass on, given the decision.

A block passes nothing. Otherwise each pii/secret span is rewritten by its verdict's strategy
(redact, mask, hash, pseudonym, or left as it is), in the text or inside the argument it lies in,
and untrusted content entering the model is spotlighted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..decision import Action, Direction
from ..policy.table import entity_of
from ..redact.strategies import Edit, apply
from .arguments import flatten, rewrite_args
from .check import Check

if TYPE_CHECKING:
    from ..session import Session


def transform(session: Session, check: Check) -> None:
    if check.action is Action.BLOCK:
        check.out_text = ""
        check.out_args = {} if check.op == "tool_call" else None
        return
    policy = session.policy
    hash_key, hash_length = session.firewall.signing_key, policy.model.redaction.hash_length
    edits: dict[str, list[Edit]] = {}
    for ruling, verdict in zip(check.rulings, check.verdicts, strict=True):
        if verdict.strategy is not None and ruling.kind.startswith(("pii:", "secret:")):
            edits.setdefault(ruling.field, []).append(
                Edit(ruling.start, ruling.end, entity_of(ruling.kind)[1], verdict.strategy))
    out = check.body
    if "" in edits:
        out = apply(out, edits[""], hash_key=hash_key, hash_length=hash_length, vault=session.vault)
    if check.op == "tool_call":
        check.out_args = rewrite_args(check.args, edits, hash_key, hash_length, session.vault, restore=False)
        out = "\n".join(v for _, v in flatten(check.out_args))
    label = check.decided_label or check.labelled
    if check.op == "admit" and check.direction is Direction.INTO_MODEL and session.spotlit(label):
        out = session.spotlighter.mark(out, check.source)
    check.out_text = out
