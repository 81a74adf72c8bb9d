"""Approval gates: a person (or a program) decides on calls the policy sends for approval.

An approver is any callable, sync or async, taking an ``ApprovalRequest`` and returning an
``ApprovalResult``: approve, reject, or approve an edited call. The firewall checks an edited call
again in full (approval included), so an edit cannot smuggle a different call past the gate. No
approver, an approver that raises, or one that does not answer within ``approvals.timeout_seconds``
means not approved.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import sys
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from .decision import Decision


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


__all__ = ["ApprovalRequest", "ApprovalResult", "ApprovalTimeout", "Approver", "ask_approver", "terminal_approver"]
