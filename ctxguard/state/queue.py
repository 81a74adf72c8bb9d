"""An approval queue shared by agent processes and the people who approve their calls.

An agent process that meets a ``require_approval`` decision puts the request in the queue and waits;
a reviewer, in another process or on another machine (``ctxguard approvals list`` / ``answer``, or
:class:`ApprovalDesk` in a web handler), reads it and answers. The queue server is trusted with
neither side's secrets:

- the request (tool, arguments, why) is sealed with the approval key, since the arguments are the
  values the reviewer must see and may be sensitive; the server holds ciphertext;
- the answer is sealed with the same key and bound to the request's id, so someone who can write to
  the server but lacks the key cannot approve a call: an answer that does not open is a rejection;
- a request is answered at most once, atomically, and only while pending; a request nobody answered
  in time is expired (atomically, so a late answer cannot win) and the call is blocked.

An edited answer goes back through ``approvals.settle``, which checks the edited call again in full.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from ..approvals import ApprovalRequest, ApprovalResult, ApprovalTimeout, approval_request
from ..errors import StateUnavailable
from .sealing import Sealer

Status = Literal["pending", "answered", "expired"]


class ApprovalQueue(Protocol):
    """Where requests wait. ``answer`` and ``expire`` are atomic: only the first of them takes effect."""

    name: str

    def submit(self, request_id: str, payload: bytes, created: float, expires: float) -> None:
        ...

    def pending(self) -> list[tuple[str, bytes, float, float]]:
        """(id, sealed payload, created, expires) of every request still waiting, oldest first."""
        ...

    def answer(self, request_id: str, sealed_answer: bytes) -> bool:
        """Answer a pending request; False when it is not pending (answered, expired or unknown)."""
        ...

    def expire(self, request_id: str) -> bool:
        """Mark a pending request expired; False when it was answered first (or is unknown)."""
        ...

    def wait(self, request_id: str, timeout: float) -> bytes | None:
        """The sealed answer once there is one, or None after ``timeout`` seconds."""
        ...

    def status(self, request_id: str) -> tuple[Status, bytes | None] | None:
        """(status, sealed answer) of a request, None when unknown."""
        ...

    def close(self) -> None:
        ...


def _sealer(key: bytes) -> Sealer:
    return Sealer(key, b"approvals")


class QueueApprover:
    """An ``Approver`` that asks through the queue and waits for a reviewer's answer.

    ``timeout`` should be a little under ``approvals.timeout_seconds``, so this approver expires its own
    request before the firewall stops waiting for it (the Firewall sets it so).
    """

    def __init__(self, queue: ApprovalQueue, key: bytes, *, timeout: float) -> None:
        self._queue = queue
        self._sealer = _sealer(key)
        self._timeout = timeout

    @property
    def queue(self) -> ApprovalQueue:
        return self._queue

    def __call__(self, request: ApprovalRequest) -> ApprovalResult:
        request_id = uuid.uuid4().hex
        payload = approval_request(request.tool, None, request.args, request.decision)
        payload["id"] = request_id
        data = json.dumps(payload, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass")
        created = time.time()
        sealed = self._sealer.seal(data, self._queue.name, request_id, "request")
        self._queue.submit(request_id, sealed, created, created + self._timeout)
        answer = self._queue.wait(request_id, self._timeout)
        if answer is None:
            if self._queue.expire(request_id):
                raise ApprovalTimeout  # settled as "no answer in time", like any approver that is silent
            state = self._queue.status(request_id)  # answered between the wait and the expiry
            answer = None if state is None else state[1]
            if answer is None:
                return ApprovalResult(approved=False, reason="the approval request is gone from the queue")
        return self._read(request_id, answer)

    def _read(self, request_id: str, sealed: bytes) -> ApprovalResult:
        opened = self._sealer.open(sealed, self._queue.name, request_id, "answer")
        if opened is None:
            return ApprovalResult(approved=False, reason="the answer does not verify with the approval key")
        try:
            body = json.loads(opened)
        except ValueError:
            return ApprovalResult(approved=False, reason="the answer is not readable")
        if not isinstance(body, dict) or body.get("approved") is not True:
            return ApprovalResult(approved=False, reason=str((body or {}).get("reason", "rejected"))[:200]
                                  if isinstance(body, dict) else "rejected")
        args = body.get("args")
        if args is not None and not isinstance(args, dict):
            return ApprovalResult(approved=False, reason="an edit needs an arguments object")
        return ApprovalResult(approved=True, args=args, reason=str(body.get("reason", ""))[:200])


@dataclass(frozen=True, slots=True)
class PendingApproval:
    """A request as a reviewer sees it: the call's own arguments, and why it needs approval."""

    id: str
    tool: str
    args: Mapping[str, Any]
    description: str
    rule: str
    findings: tuple[str, ...]
    created: float
    expires: float


class ApprovalDesk:
    """The reviewer's side of the queue: read pending requests, answer them."""

    def __init__(self, queue: ApprovalQueue, key: bytes) -> None:
        self._queue = queue
        self._sealer = _sealer(key)

    def pending(self) -> tuple[list[PendingApproval], int]:
        """Requests waiting now, and how many could not be opened with this key (not shown)."""
        out: list[PendingApproval] = []
        unreadable = 0
        now = time.time()
        for request_id, sealed, created, expires in self._queue.pending():
            if expires < now:
                continue  # its agent has given up waiting; answering it would change nothing
            opened = self._sealer.open(sealed, self._queue.name, request_id, "request")
            try:
                body = json.loads(opened) if opened is not None else None
            except ValueError:
                body = None
            if not isinstance(body, dict) or body.get("id") != request_id:
                unreadable += 1
                continue
            out.append(PendingApproval(
                id=request_id, tool=str(body.get("name", "")), args=dict(body.get("args") or {}),
                description=str(body.get("description", "")), rule=str(body.get("rule") or ""),
                findings=tuple(str(k) for k in body.get("findings") or ()), created=created, expires=expires))
        return out, unreadable

    def answer(self, request_id: str, decision: Literal["approve", "reject", "edit"], *,
               args: Mapping[str, Any] | None = None, reason: str = "") -> bool:
        """Answer one request; False when it is no longer pending (answered, expired or unknown)."""
        if decision not in ("approve", "reject", "edit"):
            raise ValueError(f"an answer is approve, reject or edit, not {decision!r}")
        if decision == "edit" and not isinstance(args, Mapping):
            raise ValueError("an edit needs the new arguments as an object")
        said = {"approve": "approved", "reject": "rejected", "edit": "edited"}[decision]
        body: dict[str, Any] = {"approved": decision != "reject", "reason": reason or f"{said} in the queue"}
        if decision == "edit":
            body["args"] = dict(args or {})
        data = json.dumps(body, default=str, ensure_ascii=False).encode("utf-8", "surrogatepass")
        return self._queue.answer(request_id, self._sealer.seal(data, self._queue.name, request_id, "answer"))


__all__ = ["ApprovalDesk", "ApprovalQueue", "PendingApproval", "QueueApprover", "StateUnavailable", "Status"]
