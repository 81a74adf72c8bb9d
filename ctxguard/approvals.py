"""Approval gates: a person (or a program) decides on calls the policy sends for approval.

An approver is any callable, sync or async, taking an ``ApprovalRequest`` and returning an
``ApprovalResult``: approve, reject, or approve an edited call. The firewall checks an edited call
again in full (approval included), so an edit cannot smuggle a different call past the gate. No
approver, an approver that raises, or one that does not answer within ``approvals.timeout_seconds``
means not approved.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from .decision import Action, Decision
from .policy.schema import ApprovalPolicy


@dataclass(frozen=True, slots=True)
class ApprovalRequest:
    """What an approver sees: the call, why it needs approval (findings, rule) and its provenance label."""

    tool: str
    args: Mapping[str, Any]
    decision: Decision


@dataclass(frozen=True, slots=True)
class ApprovalResult:
    """An approver's answer. ``args`` set means the call was edited; the edit is checked again in full."""

    approved: bool
    args: Mapping[str, Any] | None = None
    reason: str = ""


Approver = Callable[[ApprovalRequest], "ApprovalResult | Awaitable[ApprovalResult]"]


class ApprovalTimeout(Exception):
    """The approver did not answer in time (distinct from a TimeoutError the approver itself raises)."""


def ask_approver(approver: Approver, request: ApprovalRequest, timeout: float) -> ApprovalResult:
    """Run the approver in a daemon thread and stop waiting after ``timeout`` seconds.

    A person at a terminal may never answer; the call must not hang the agent forever, and a
    daemon thread does not keep the process alive at exit the way an executor's worker would. An
    async approver runs on its own event loop in that thread.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def run() -> None:
        try:
            result = approver(request)
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
            box["result"] = result
        except BaseException as exc:
            box["error"] = exc
        finally:
            done.set()

    threading.Thread(target=run, name="ctxguard-approver", daemon=True).start()
    if not done.wait(timeout):
        raise ApprovalTimeout
    if "error" in box:
        raise box["error"]
    return box["result"]  # type: ignore[no-any-return]


async def _await(result: Awaitable[ApprovalResult]) -> ApprovalResult:
    return await result


# An edited call that needs approval again may be edited again, this many times, then it blocks.
MAX_EDITS = 3

Recheck = Callable[[Mapping[str, Any], int], Decision]
"""Check an edited call again in full: (the edited arguments, how many edits deep) -> its decision."""
Amend = Callable[[Decision, Action, str, str], Decision]
"""Record an approval's outcome: (the decision, the new action, reason, rule) -> the amended decision."""


def settle(decision: Decision, args: Mapping[str, Any], *, approver: Approver | None, cfg: ApprovalPolicy,
           recheck: Recheck, amend: Amend, depth: int = 0) -> Decision:
    """Ask ``approver`` about a ``require_approval`` decision and turn its answer into the decision.

    No approver follows ``approvals.when_no_approver``; a timeout, an error or anything but an
    approval blocks; an edit is a new call, so ``recheck`` runs every check again, approval included.
    """
    if approver is None:
        if cfg.when_no_approver == "allow":
            return amend(decision, Action.ALLOW, "approval required; no approver, and the policy allows that",
                         "approvals.when_no_approver")
        return amend(decision, Action.BLOCK, "approval required and no approver is configured",
                     "approvals.when_no_approver")
    timeout = cfg.timeout_seconds
    try:
        result = ask_approver(approver, ApprovalRequest(tool=decision.tool, args=args, decision=decision), timeout)
    except ApprovalTimeout:  # nobody answered: not approved
        return amend(decision, Action.BLOCK, f"no answer from approver within {timeout:g}s",
                     "approvals.timeout_seconds")
    except Exception as exc:  # an approver that fails has not approved
        return amend(decision, Action.BLOCK, f"approver failed: {type(exc).__name__}", "approvals")
    if not isinstance(result, ApprovalResult) or not result.approved:
        return amend(decision, Action.BLOCK, "rejected by approver", "approvals")
    if result.args is not None and dict(result.args) != dict(args):
        if depth >= MAX_EDITS:
            return amend(decision, Action.BLOCK, "too many edits in approval", "approvals")
        return recheck(result.args, depth + 1)
    return amend(decision, Action.ALLOW, "approved by approver", "approvals")


def resolve(pending: Decision, args: Mapping[str, Any], answer: ApprovalResult | None, *, recheck: Recheck,
            amend: Amend) -> Decision:
    """The answer to a deferred approval (a LangGraph interrupt, a web form), with an approver's rules:
    no answer, or a rejection, blocks; an approval allows ``pending``'s arguments; an edit is a new
    call, checked again in full. When that check again requires approval, the edit is the approval
    (the person wrote exactly these arguments)."""
    if not pending.enforced:
        return pending
    if not isinstance(answer, ApprovalResult) or not answer.approved:
        return amend(pending, Action.BLOCK, "rejected by approver", "approvals")
    if answer.args is not None and dict(answer.args) != dict(args):
        edited = recheck(answer.args, 1)
        if edited.action is Action.REQUIRE_APPROVAL and edited.enforced:
            return amend(edited, Action.ALLOW, "approved by approver as edited", "approvals")
        return edited
    return amend(pending, Action.ALLOW, "approved by approver", "approvals")


def approval_request(tool: str, call_id: object, args: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    """A framework-neutral description of a call waiting for approval (a LangGraph interrupt value,
    a web form's payload).

    ``description`` is log-safe (tool, reason, rule, finding kinds: no values). ``args`` are the
    call's own arguments, which the person approving has to see.
    """
    kinds = sorted({f.kind for f in decision.findings})
    return {
        "type": "ctxguard_approval",
        "tool_call_id": call_id,
        "name": tool,
        "args": copy.deepcopy(dict(args)),
        "description": f"ctxguard: {tool} needs approval: {decision.reason}"
                       f" (rule {decision.rule or '-'}; findings: {', '.join(kinds) or '-'})",
        "reason": decision.reason,
        "rule": decision.rule,
        "findings": kinds,
        "allowed_decisions": ["approve", "edit", "reject"],
    }


def parse_answer(answer: Any, tool: str) -> ApprovalResult | None:
    """A person's answer, in any of the shapes frameworks hand back, as an ``ApprovalResult``;
    anything unreadable is a rejection (``None`` when there is no answer at all to read).

    Accepts an ``ApprovalResult``, ``True``/``False``, ``"approve"``/``"reject"``, or the
    HumanInTheLoopMiddleware shapes ``{"type": "approve" | "reject" | "edit", ...}`` with the edit's
    arguments in ``args`` or ``edited_action.args``. An edit may change the arguments, not the tool:
    ctxguard checked this tool's call, and another tool would be a call nobody checked.
    """
    if isinstance(answer, ApprovalResult):
        return answer
    if isinstance(answer, bool):
        return ApprovalResult(approved=answer)
    if isinstance(answer, str):
        return ApprovalResult(approved=answer.strip().lower() in ("approve", "approved", "yes", "y"))
    if not isinstance(answer, Mapping):
        return None
    kind = answer.get("type")
    if kind == "approve" or (kind is None and answer.get("approved") is True and "args" not in answer):
        return ApprovalResult(approved=True, reason="approved at the interrupt")
    if kind == "edit" or (kind is None and answer.get("approved") is True):
        action = answer.get("edited_action")
        if isinstance(action, Mapping):
            if action.get("name", tool) != tool:
                return ApprovalResult(approved=False, reason="an edit may not change the tool")
            args = action.get("args")
        else:
            args = answer.get("args")
        if not isinstance(args, Mapping):
            return ApprovalResult(approved=False, reason="an edit needs an arguments object")
        return ApprovalResult(approved=True, args=dict(args), reason="edited at the interrupt")
    return ApprovalResult(approved=False, reason=str(answer.get("message") or "rejected at the interrupt")[:200])


def terminal_approver(stdin: TextIO | None = None, stdout: TextIO | None = None) -> Approver:
    """An approver that asks at the terminal: shows the call, why, and the findings (no raw values
    beyond the call's own arguments, which the person approving must see), then reads
    ``y`` (approve), ``n`` (reject) or ``e`` (edit: a JSON object of replacement arguments)."""
    inp = stdin or sys.stdin
    out = stdout or sys.stderr

    def approve(req: ApprovalRequest) -> ApprovalResult:
        d = req.decision
        out.write(f"\nctxguard: approval needed for {req.tool}({json.dumps(dict(req.args), default=str)[:500]})\n")
        out.write(f"  why: {d.reason} (rule {d.rule or '-'}); findings: "
                  f"{', '.join(sorted({f.kind for f in d.findings})) or '-'}\n")
        out.write("  approve? [y]es / [n]o / [e]dit: ")
        out.flush()
        answer = inp.readline().strip().lower()
        if answer in ("y", "yes"):
            return ApprovalResult(approved=True, reason="approved at the terminal")
        if answer in ("e", "edit"):
            out.write("  new arguments as JSON: ")
            out.flush()
            try:
                edited = json.loads(inp.readline())
            except ValueError:
                return ApprovalResult(approved=False, reason="edit was not valid JSON")
            if not isinstance(edited, dict):
                return ApprovalResult(approved=False, reason="edit must be a JSON object")
            return ApprovalResult(approved=True, args=edited, reason="edited at the terminal")
        return ApprovalResult(approved=False, reason="rejected at the terminal")

    return approve


__all__ = [
    "ApprovalRequest", "ApprovalResult", "ApprovalTimeout", "Approver", "approval_request", "ask_approver",
    "parse_answer", "resolve", "settle", "terminal_approver",
]
