"""Build the stores a policy names: the vault store, the audit writer and the approval queue.

Only this module reads the policy's store settings, so the Firewall, the CLI and the tests open
stores the same way, and a server-backed store is built (and its client imported) only when the
policy asks for it.
"""

from __future__ import annotations

import os
import secrets

from ..audit import AuditLog, AuditWriter
from ..errors import ConfigurationError
from ..policy.schema import ApprovalPolicy, AuditPolicy, VaultPolicy
from ..redact.stores import MemoryVaultStore, SQLiteVaultStore, VaultStore
from .chain import ChainStore, SharedAuditLog
from .connect import resolve_url
from .queue import ApprovalQueue, QueueApprover

# The queue approver gives up this long before the firewall stops waiting for it, so it can expire its
# own request first (a late answer then finds the request expired, not a call that was blocked anyway).
_APPROVER_MARGIN = 0.1


def key_from_env(var: str) -> bytes | None:
    value = os.environ.get(var)
    return value.encode("utf-8") if value else None


def open_vault_store(cfg: VaultPolicy) -> tuple[VaultStore, bytes]:
    """The Firewall's one pseudonym store and its key; sessions share the store, scoped apart.

    A persistent store without a key from the environment is refused here, at start-up, rather than
    at the first pseudonym: its tokens would be unreadable after a restart, or in the next process.
    """
    key = key_from_env(cfg.key_env)
    if cfg.store == "memory":
        return MemoryVaultStore(), key or secrets.token_bytes(32)
    if key is None:
        raise ConfigurationError(
            f"the {cfg.store} pseudonym vault needs a key: set {cfg.key_env} (at least 16 bytes, the same in every "
            "process that shares it) before starting")
    if cfg.store == "sqlite":
        return SQLiteVaultStore(cfg.path or ""), key
    url = resolve_url(cfg.store, cfg.url, cfg.url_env)
    if cfg.store == "redis":
        from .redis_state import RedisVaultStore

        return RedisVaultStore(url, timeout=cfg.server_timeout_seconds), key
    from .postgres_state import PostgresVaultStore

    return PostgresVaultStore(url, timeout=cfg.server_timeout_seconds), key


def open_chain_store(cfg: AuditPolicy) -> ChainStore:
    """The shared chain a redis or postgres audit store names."""
    if cfg.store == "file":
        raise ConfigurationError("the file audit store has no shared chain")
    url = resolve_url(cfg.store, cfg.url, cfg.url_env)
    if cfg.store == "redis":
        from .redis_state import RedisChainStore

        return RedisChainStore(url, chain=cfg.chain, timeout=cfg.server_timeout_seconds)
    from .postgres_state import PostgresChainStore

    return PostgresChainStore(url, chain=cfg.chain, timeout=cfg.server_timeout_seconds)


def open_audit(cfg: AuditPolicy, path: str | os.PathLike[str] | None = None) -> AuditWriter:
    """The audit writer the policy names; ``path`` (the Firewall's ``audit=`` argument) overrides a
    file store's path."""
    key = key_from_env(cfg.key_env)
    if cfg.store == "file":
        return AuditLog(path if path is not None else cfg.path, key=key, fsync=cfg.fsync)
    if path is not None:
        raise ConfigurationError(f"the policy keeps the audit chain in {cfg.store}; an audit path would be ignored")
    return SharedAuditLog(open_chain_store(cfg), key=key, spool=cfg.spool)


def open_queue(cfg: ApprovalPolicy) -> ApprovalQueue:
    if cfg.queue == "none":
        raise ConfigurationError("the policy configures no approval queue (approvals.queue)")
    url = resolve_url(cfg.queue, cfg.url, cfg.url_env)
    if cfg.queue == "redis":
        from .redis_state import RedisApprovalQueue

        return RedisApprovalQueue(url, name=cfg.name, timeout=cfg.server_timeout_seconds)
    from .postgres_state import PostgresApprovalQueue

    return PostgresApprovalQueue(url, name=cfg.name, timeout=cfg.server_timeout_seconds)


def approval_key(cfg: ApprovalPolicy) -> bytes:
    key = key_from_env(cfg.key_env)
    if key is None:
        raise ConfigurationError(
            f"the approval queue needs a key: set {cfg.key_env} (at least 16 bytes) in the agent's and the "
            "reviewer's environment; requests and answers are sealed with it")
    return key


def open_queue_approver(cfg: ApprovalPolicy) -> QueueApprover | None:
    """The approver a queue policy implies, or None when the policy has no queue."""
    if cfg.queue == "none":
        return None
    key = approval_key(cfg)
    wait = max(cfg.timeout_seconds * (1 - _APPROVER_MARGIN), cfg.timeout_seconds - 1.0, 0.05)
    return QueueApprover(open_queue(cfg), key, timeout=min(wait, cfg.timeout_seconds))


__all__ = ["approval_key", "key_from_env", "open_audit", "open_chain_store", "open_queue", "open_queue_approver",
           "open_vault_store"]
