"""Where pseudonym vaults keep their entries: in memory, or an SQLite file that survives restarts.

A store sees only scopes, keyed digests, tokens and ciphertext: the vault seals values before they
reach it, so neither store ever holds plaintext. Every method is atomic; unique constraints (or, in
memory, one lock) guarantee one token per value and one value per token, even across processes
sharing one SQLite file.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import ConfigurationError, CtxGuardError


def scope_id(tenant: str, session: str) -> str:
    """The store's scope string for (tenant, session); unambiguous whatever characters the ids hold."""
    return json.dumps([tenant, session], ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True, slots=True)
class VaultEntry:
    """One stored pseudonym: what kind it is, the keyed digest of its value, the sealed value."""

    entity: str
    digest: bytes = field(repr=False)
    ciphertext: bytes = field(repr=False)


class VaultStore(Protocol):
    """Where a vault keeps its entries. Every method is atomic and safe to call from many threads.

    A store never sees a plaintext value: ``digest`` is a keyed HMAC and ``ciphertext`` is sealed.
    Entries are never changed once written, so callers may cache what they read.
    """

    #: True when entries outlive the process; such a store needs a configured key.
    persistent: bool

    def get_token(self, scope: str, entity: str, digest: bytes) -> str | None:
        """The token issued for this value (by digest) and entity in the scope, if any."""
        ...

    def get_entry(self, scope: str, token: str) -> VaultEntry | None:
        """The entry for a token issued in the scope, if any."""
        ...

    def has_digest(self, scope: str, digest: bytes) -> bool:
        """Whether any entry in the scope, of any entity, has this value."""
        ...

    def put(self, scope: str, entity: str, digest: bytes, token: str, ciphertext: bytes) -> str | None:
        """Store an entry unless one exists. Returns the token now held for (scope, entity, digest):
        ``token`` if this call stored it, the earlier one if another caller won the race, or None if
        ``token`` is already held by a different value (nothing is stored then)."""
        ...

    def next_counter(self, scope: str, entity: str) -> int:
        """Increment and return the scope's counter for the entity (1, 2, ...); never the same twice."""
        ...

    def tokens(self, scope: str) -> list[str]:
        """Every token issued in the scope."""
        ...

    def count(self, scope: str) -> int:
        """How many entries the scope holds."""
        ...

    def close(self) -> None:
        ...


class MemoryVaultStore:
    """Entries in process memory (the default): gone when the process ends."""

    persistent = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str, bytes], str] = {}
        self._entries: dict[tuple[str, str], VaultEntry] = {}
        self._digests: set[tuple[str, bytes]] = set()
        self._tokens: dict[str, list[str]] = {}
        self._counters: dict[tuple[str, str], int] = {}

    def get_token(self, scope: str, entity: str, digest: bytes) -> str | None:
        with self._lock:
            return self._by_value.get((scope, entity, digest))

    def get_entry(self, scope: str, token: str) -> VaultEntry | None:
        with self._lock:
            return self._entries.get((scope, token))

    def has_digest(self, scope: str, digest: bytes) -> bool:
        with self._lock:
            return (scope, digest) in self._digests

    def put(self, scope: str, entity: str, digest: bytes, token: str, ciphertext: bytes) -> str | None:
        with self._lock:
            held = self._by_value.get((scope, entity, digest))
            if held is not None:
                return held
            if (scope, token) in self._entries:
                return None
            self._by_value[(scope, entity, digest)] = token
            self._entries[(scope, token)] = VaultEntry(entity, digest, ciphertext)
            self._digests.add((scope, digest))
            self._tokens.setdefault(scope, []).append(token)
            return token

    def next_counter(self, scope: str, entity: str) -> int:
        with self._lock:
            n = self._counters.get((scope, entity), 0) + 1
            self._counters[(scope, entity)] = n
            return n

    def tokens(self, scope: str) -> list[str]:
        with self._lock:
            return list(self._tokens.get(scope, ()))

    def count(self, scope: str) -> int:
        with self._lock:
            return len(self._tokens.get(scope, ()))

    def close(self) -> None:
        """Nothing to release; entries stay readable."""

    def __repr__(self) -> str:
        with self._lock:
            return f"MemoryVaultStore(entries={len(self._entries)})"


_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS vault_entries (
    scope TEXT NOT NULL,
    entity TEXT NOT NULL,
    digest BLOB NOT NULL,
    token TEXT NOT NULL,
    ciphertext BLOB NOT NULL,
    UNIQUE (scope, digest, entity),
    UNIQUE (scope, token)
);
CREATE TABLE IF NOT EXISTS vault_counters (
    scope TEXT NOT NULL,
    entity TEXT NOT NULL,
    n INTEGER NOT NULL,
    PRIMARY KEY (scope, entity)
);
"""


class SQLiteVaultStore:
    """Entries in an SQLite file (WAL mode): they survive restarts and can be shared by processes.

    The file holds scope ids, entity names, tokens, keyed digests and ciphertext, never a value. It is
    created readable by its owner only. Each thread gets its own connection, so readers do not wait
    for a writer's commit; the unique constraints, not a lock, keep one token per value.
    """

    persistent = True

    def __init__(self, path: str | os.PathLike[str], *, timeout: float = 30.0) -> None:
        self._path = Path(path)
        self._timeout = timeout
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._closed = False
        try:
            if not self._path.exists():
                os.close(os.open(self._path, os.O_CREAT | os.O_WRONLY, 0o600))
            conn = self._conn()
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _SCHEMA_VERSION:
                raise ConfigurationError(
                    f"vault file {self._path} has schema version {version}; this ctxguard reads up to "
                    f"{_SCHEMA_VERSION}"
                )
            conn.execute("PRAGMA journal_mode=WAL")
            with self._transaction(conn):
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {_SCHEMA_VERSION}")
        except (OSError, sqlite3.DatabaseError) as exc:
            self.close()
            raise ConfigurationError(f"cannot open vault file {self._path}: {exc}") from None
        except BaseException:
            self.close()
            raise

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._conns_lock:
                if self._closed:
                    raise CtxGuardError("the vault store is closed")
                conn = sqlite3.connect(
                    self._path, timeout=self._timeout, isolation_level=None, check_same_thread=False
                )
                self._conns.append(conn)
            self._local.conn = conn
        elif self._closed:
            raise CtxGuardError("the vault store is closed")
        return conn

    @staticmethod
    @contextmanager
    def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
        # IMMEDIATE takes the write lock up front: two read-then-write transactions cannot deadlock.
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _one(self, sql: str, params: tuple[Any, ...]) -> Any:
        row = self._conn().execute(sql, params).fetchone()
        return None if row is None else row[0]

    def get_token(self, scope: str, entity: str, digest: bytes) -> str | None:
        token: str | None = self._one(
            "SELECT token FROM vault_entries WHERE scope = ? AND digest = ? AND entity = ?", (scope, digest, entity)
        )
        return token

    def get_entry(self, scope: str, token: str) -> VaultEntry | None:
        row = self._conn().execute(
            "SELECT entity, digest, ciphertext FROM vault_entries WHERE scope = ? AND token = ?", (scope, token)
        ).fetchone()
        if row is None:
            return None
        entity, digest, ciphertext = row
        if not (isinstance(entity, str) and isinstance(digest, bytes) and isinstance(ciphertext, bytes)):
            return None  # a row edited by hand to other types is as unreadable as a tampered one
        return VaultEntry(entity, digest, ciphertext)

    def has_digest(self, scope: str, digest: bytes) -> bool:
        sql = "SELECT 1 FROM vault_entries WHERE scope = ? AND digest = ? LIMIT 1"
        return self._one(sql, (scope, digest)) is not None

    def put(self, scope: str, entity: str, digest: bytes, token: str, ciphertext: bytes) -> str | None:
        conn = self._conn()
        # OR IGNORE on either unique constraint; the read below says which one held, if any. Rows are
        # never updated or deleted, so what it reads cannot change under it.
        conn.execute(
            "INSERT OR IGNORE INTO vault_entries (scope, entity, digest, token, ciphertext) VALUES (?, ?, ?, ?, ?)",
            (scope, entity, digest, token, ciphertext),
        )
        return self.get_token(scope, entity, digest)

    def next_counter(self, scope: str, entity: str) -> int:
        conn = self._conn()
        with self._transaction(conn):
            conn.execute("INSERT OR IGNORE INTO vault_counters (scope, entity, n) VALUES (?, ?, 0)", (scope, entity))
            conn.execute("UPDATE vault_counters SET n = n + 1 WHERE scope = ? AND entity = ?", (scope, entity))
            n = conn.execute(
                "SELECT n FROM vault_counters WHERE scope = ? AND entity = ?", (scope, entity)
            ).fetchone()[0]
        return int(n)

    def tokens(self, scope: str) -> list[str]:
        rows = self._conn().execute("SELECT token FROM vault_entries WHERE scope = ?", (scope,)).fetchall()
        return [r[0] for r in rows]

    def count(self, scope: str) -> int:
        return int(self._one("SELECT COUNT(*) FROM vault_entries WHERE scope = ?", (scope,)))

    def close(self) -> None:
        """Close every thread's connection; later calls raise."""
        with self._conns_lock:
            self._closed = True
            conns, self._conns = self._conns, []
        for conn in conns:
            conn.close()

    def __enter__(self) -> SQLiteVaultStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SQLiteVaultStore({str(self._path)!r})"
