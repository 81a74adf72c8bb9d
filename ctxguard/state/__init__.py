"""State that many agent processes share: the pseudonym vault, the audit chain and the approval queue,
in Redis or PostgreSQL (``pip install 'ctxguard[redis]'`` / ``'ctxguard[postgres]'``), chosen in the
policy (``redaction.vault.store``, ``audit.store``, ``approvals.queue``).

What a server sees: the vault holds keyed digests and AES-GCM ciphertext; approval requests and answers
are sealed with the approval key; audit records are log-safe by construction and hash-chained (keyed
with ``CTXGUARD_AUDIT_KEY``). What happens when a server is down: the check that needed it blocks (the
error names the store and the error type), an approval is not granted, and an audit event is either
spooled locally (``audit.spool``) or its append raises. Nothing is lost silently.
"""

from .chain import ChainStore, SharedAuditLog, export
from .queue import ApprovalDesk, ApprovalQueue, PendingApproval, QueueApprover

__all__ = ["ApprovalDesk", "ApprovalQueue", "ChainStore", "PendingApproval", "QueueApprover", "SharedAuditLog",
           "export"]
