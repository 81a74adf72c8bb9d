"""The entry points as lists of steps, and the one runner that executes them.

Prepare steps label and normalise the input; they run before any check, so bad input (a label
with a bad signature gets the lowest trust; a wrong type raises) is settled first. Detect steps
then gather findings; decide, transform, remember and record are shared by every entry point.
Any exception inside detect, decide or transform becomes a ``block`` decision (or ``allow`` when
the policy opts into ``on_error: allow``), audited with the exception's type, never its message,
which might quote the content.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..decision import Action, Decision, Direction, Finding, Ruling
from . import detect
from .arguments import flatten, rewrite_args
from .check import Check, Step
from .decide import decide
from .record import record, remember
from .transform import transform

if TYPE_CHECKING:
    from ..session import Session


@dataclass(frozen=True, slots=True)
class Pipeline:
    """One entry point: its prepare steps and its detect steps (the rest is shared)."""

    op: str
    prepare: tuple[Step, ...]
    detect: tuple[Step, ...]


# ---- prepare steps ----------------------------------------------------------------------------------
def label_admitted(session: Session, check: Check) -> None:
    """The label of content entering the context: given by a trusted caller, else from signed metadata
    (verified; a bad signature gives the lowest trust), else from the policy's source map."""
    if check.label is None:
        if check.metadata is not None:
            check.label = session.firewall.signer.verify(check.metadata, check.text, source=check.source)
        else:
            check.label = session.label_for(check.text, check.source, confidentiality=check.confidentiality)


def label_derived(session: Session, check: Check) -> None:
    """The label of what the model produced: the join of everything admitted so far."""
    check.label = session.derived_label(check.text, check.source)


def restore_pseudonyms(session: Session, check: Check) -> None:
    """Real values go back in before the checks, not after: out_to_user strategies, canaries and URL
    checks must judge the text the user will see, or echoing a pseudonym bypasses them."""
    check.text, _, _ = session.vault.restore(check.text)
    check.body = check.text


def read_arguments(session: Session, check: Check) -> None:
    """A tool call's values, one string per path. With ``restore_pseudonyms``, pseudonyms the model was
    given go back to their real values first: the into_tool strategy of each entity then decides
    whether the real value may pass, and destinations, provenance and secrets are judged on what the
    tool would really get. Tokens the vault never issued stay as they are."""
    policy = session.policy
    assert check.args is not None
    if policy.tool(check.tool).restore_pseudonyms:
        check.args = rewrite_args(check.args, {}, session.firewall.signing_key, policy.model.redaction.hash_length,
                                  session.vault, restore=True)
    check.values = list(flatten(check.args))
    check.text = check.body = "\n".join(v for _, v in check.values)


ADMIT = Pipeline("admit", (label_admitted,), (detect.scope, detect.fit_budget, detect.content, detect.injection))
OUTPUT = Pipeline("output", (restore_pseudonyms, label_derived), (detect.content, detect.output_channels))
DERIVED = Pipeline("derived", (label_derived,), (detect.content,))
TOOL_CALL = Pipeline("tool_call", (read_arguments, label_derived), (
    detect.argument_values, detect.split_secrets, detect.argument_names, detect.request_support,
    detect.approval_gate))


# ---- the runner -------------------------------------------------------------------------------------
def run(session: Session, pipeline: Pipeline, check: Check) -> Decision:
    if session.closed:
        raise RuntimeError("session is closed")
    check.body = check.body or check.text
    for step in pipeline.prepare:
        step(session, check)
    policy = session.policy
    label = check.labelled
    is_call = check.args is not None
    max_chars = policy.model.detection.max_chars
    try:
        if len(check.text) > max_chars:
            decision = Decision(
                action=Action.BLOCK, text="", label=label,
                findings=(Ruling(Finding("limits", "limits:size", 0, 0, 1.0), Action.BLOCK, "detection.max_chars"),),
                rule="detection.max_chars", reason=f"content longer than {max_chars} characters",
                direction=check.direction, tool=check.tool, args={} if is_call else None,
            )
        else:
            for step in pipeline.detect:
                step(session, check)
            decide(session, check)
            transform(session, check)
            decision = _decision(check)
            remember(session, check, decision)
    except Exception as exc:  # fail closed: a check that cannot run has not passed
        fail_open = policy.fail_open
        decision = Decision(
            action=Action.ALLOW if fail_open else Action.BLOCK,
            text=check.text if fail_open else "",
            label=label,
            findings=(Ruling(Finding("pipeline", "error", 0, 0, 1.0), Action.ALLOW if fail_open else Action.BLOCK,
                             "on_error"),),
            rule="on_error",
            reason=f"check failed: {type(exc).__name__}",
            direction=check.direction, tool=check.tool,
            args=(dict(check.args or {}) if fail_open else {}) if is_call else None,
        )
    if not policy.enforce:
        decision = replace(decision, enforced=False, text=check.text,
                           args=dict(check.args or {}) if is_call else None)
    return record(session, check, decision)


def _decision(check: Check) -> Decision:
    truncated = any(r.kind.startswith("budget:") and r.action is Action.REDACT for r in check.rulings)
    return Decision(
        action=check.action, text=check.out_text, label=check.decided_label or check.labelled,
        findings=tuple(check.rulings), rule=check.rule, reason=check.reason, direction=check.direction,
        tool=check.tool, args=check.out_args, truncated=truncated, tokens=check.tokens,
    )


__all__ = ["ADMIT", "DERIVED", "OUTPUT", "TOOL_CALL", "Direction", "Pipeline", "run"]
