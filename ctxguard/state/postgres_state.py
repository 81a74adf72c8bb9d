"""PostgreSQL backends: the pseudonym vault, the audit chain and the approval queue.

Atomicity comes from the database's own guarantees: unique constraints keep one token per value and
one value per token (``INSERT ... ON CONFLICT DO NOTHING``, then read what is held); a chain append is
one transaction that takes an advisory lock on the chain, reads the head and inserts the next record,
with the (chain, seq) primary key as a backstop should anyone write without the lock (records
deleted on the server are found by ``verify``, not at append time, which reads only the head); an approval is
answered or expired by an ``UPDATE ... WHERE status = 'pending'``, so only the first takes effect.

Each thread keeps its own connection (a psycopg connection runs one command at a time), opened again
after a fork or after an error. Tables are created on first use, under an advisory lock, since two
processes running ``CREATE TABLE IF NOT EXISTS`` at once can still collide in PostgreSQL's catalogue.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any, Final

from ..audit import GENESIS
from ..redact.stores import VaultEntry
from .chain import Build
from .connect import DEFAULT_TIMEOUT, PerProcess, calls, check_url, import_client, safe_url
from .queue import Status

_SCHEMA_LOCK: Final = 0x6374786775617264  # "ctxguard"
_READ_BATCH: Final = 1000

_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS ctxguard_vault_entries (
    scope TEXT NOT NULL,
    entity TEXT NOT NULL,
    digest BYTEA NOT NULL,
    token TEXT NOT NULL,
    ciphertext BYTEA NOT NULL,
    UNIQUE (scope, digest, entity),
    UNIQUE (scope, token)
);
CREATE TABLE IF NOT EXISTS ctxguard_vault_counters (
    scope TEXT NOT NULL,
    entity TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (scope, entity)
);
CREATE TABLE IF NOT EXISTS ctxguard_audit (
    chain TEXT NOT NULL,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
);
CREATE TABLE IF NOT EXISTS ctxguard_approvals (
    queue TEXT NOT NULL,
    id TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    expires DOUBLE PRECISION NOT NULL,
    status TEXT NOT NULL,
    payload BYTEA NOT NULL,
    answer BYTEA,
    PRIMARY KEY (queue, id)
);
CREATE INDEX IF NOT EXISTS ctxguard_approvals_pending ON ctxguard_approvals (queue, created)
    WHERE status = 'pending';
"""


class _Postgres:
    """Per-thread connections in autocommit mode, with the schema ensured once per process."""

    def __init__(self, url: str, *, timeout: float, what: str) -> None:
        self.url = check_url("postgres", url)
        self._psycopg = import_client("postgres")
        self.what = f"{what} (postgres {safe_url(url)})"
        self.errors: tuple[type[BaseException], ...] = (self._psycopg.Error, OSError)
        millis = max(1, int(timeout * 1000))

        def connect() -> Any:
            conn = self._psycopg.connect(url, autocommit=True, connect_timeout=max(1, round(timeout)),
                                         options=f"-c statement_timeout={millis} -c lock_timeout={millis}")
            return conn

        self._conns = PerProcess(connect, lambda c: c.close(), per_thread=True)
        self._schema_ready = False

    def conn(self) -> Any:
        with calls(self.what, self.errors, self._conns.discard):
            conn = self._conns.get()
            if not self._schema_ready:
                with conn.transaction():
                    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                    for statement in _SCHEMA.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                self._schema_ready = True
        return conn

    def one(self, sql: str, params: tuple[Any, ...]) -> Any:
        with calls(self.what, self.errors, self._conns.discard):
            row = self.conn().execute(sql, params).fetchone()
        return row

    def all(self, sql: str, params: tuple[Any, ...]) -> list[Any]:
        with calls(self.what, self.errors, self._conns.discard):
            return list(self.conn().execute(sql, params).fetchall())

    def guarded(self) -> Any:
        return calls(self.what, self.errors, self._conns.discard)

    def close(self) -> None:
        self._conns.close()


class PostgresVaultStore:
    """A ``VaultStore`` in PostgreSQL, with the SQLite store's schema and constraints."""

    persistent = True

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._db = _Postgres(url, timeout=timeout, what="the pseudonym vault")

    def get_token(self, scope: str, entity: str, digest: bytes) -> str | None:
        row = self._db.one("SELECT token FROM ctxguard_vault_entries WHERE scope = %s AND digest = %s AND entity = %s",
                           (scope, digest, entity))
        return None if row is None else str(row[0])

    def get_entry(self, scope: str, token: str) -> VaultEntry | None:
        row = self._db.one(
            "SELECT entity, digest, ciphertext FROM ctxguard_vault_entries WHERE scope = %s AND token = %s",
            (scope, token))
        if row is None:
            return None
        entity, digest, ciphertext = row
        return VaultEntry(str(entity), bytes(digest), bytes(ciphertext))

    def has_digest(self, scope: str, digest: bytes) -> bool:
        row = self._db.one("SELECT 1 FROM ctxguard_vault_entries WHERE scope = %s AND digest = %s LIMIT 1",
                           (scope, digest))
        return row is not None

    def put(self, scope: str, entity: str, digest: bytes, token: str, ciphertext: bytes) -> str | None:
        # ON CONFLICT on either constraint; the read after it says which one held, if any. Rows are never
        # updated or deleted, so what it reads cannot change under it.
        self._db.one(
            "INSERT INTO ctxguard_vault_entries (scope, entity, digest, token, ciphertext) "
            "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING RETURNING 1",
            (scope, entity, digest, token, ciphertext))
        return self.get_token(scope, entity, digest)

    def next_counter(self, scope: str, entity: str) -> int:
        row = self._db.one(
            "INSERT INTO ctxguard_vault_counters (scope, entity, n) VALUES (%s, %s, 1) "
            "ON CONFLICT (scope, entity) DO UPDATE SET n = ctxguard_vault_counters.n + 1 RETURNING n",
            (scope, entity))
        return int(row[0])

    def tokens(self, scope: str) -> list[str]:
        return [str(r[0]) for r in self._db.all("SELECT token FROM ctxguard_vault_entries WHERE scope = %s", (scope,))]

    def count(self, scope: str) -> int:
        row = self._db.one("SELECT COUNT(*) FROM ctxguard_vault_entries WHERE scope = %s", (scope,))
        return int(row[0])

    def close(self) -> None:
        self._db.close()

    def __repr__(self) -> str:
        return f"PostgresVaultStore({safe_url(self._db.url)!r})"


class PostgresChainStore:
    """A ``ChainStore`` in PostgreSQL: one row per record, appended under the chain's advisory lock."""

    def __init__(self, url: str, *, chain: str = "default", timeout: float = DEFAULT_TIMEOUT) -> None:
        self._db = _Postgres(url, timeout=timeout, what=f"the audit chain {chain!r}")
        self._chain = chain
        self.name = self._db.what

    def head(self) -> tuple[int, str]:
        row = self._db.one("SELECT seq, hash FROM ctxguard_audit WHERE chain = %s ORDER BY seq DESC LIMIT 1",
                           (self._chain,))
        return (-1, GENESIS) if row is None else (int(row[0]), str(row[1]))

    def append(self, build: Build) -> tuple[int, str]:
        with self._db.guarded():
            conn = self._db.conn()
            with conn.transaction():
                lock = "ctxguard_audit:" + self._chain
                conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (lock,))
                row = conn.execute("SELECT seq, hash FROM ctxguard_audit WHERE chain = %s ORDER BY seq DESC LIMIT 1",
                                   (self._chain,)).fetchone()
                seq, prev = (-1, GENESIS) if row is None else (int(row[0]), str(row[1]))
                digest, line = build(seq + 1, prev)
                conn.execute("INSERT INTO ctxguard_audit (chain, seq, hash, line) VALUES (%s, %s, %s, %s)",
                             (self._chain, seq + 1, digest, line))
        return seq + 1, digest

    def lines(self) -> Iterator[bytes]:
        after = -1
        while True:
            rows = self._db.all("SELECT seq, line FROM ctxguard_audit WHERE chain = %s AND seq > %s ORDER BY seq "
                                "LIMIT %s", (self._chain, after, _READ_BATCH))
            for seq, line in rows:
                yield str(line).encode("utf-8", "surrogatepass")
                after = int(seq)
            if len(rows) < _READ_BATCH:
                return

    def close(self) -> None:
        self._db.close()


class PostgresApprovalQueue:
    """An ``ApprovalQueue`` in PostgreSQL; a waiting agent polls its row (every 50-250 ms)."""

    def __init__(self, url: str, *, name: str = "default", timeout: float = DEFAULT_TIMEOUT) -> None:
        self._db = _Postgres(url, timeout=timeout, what=f"the approval queue {name!r}")
        self.name = name

    def submit(self, request_id: str, payload: bytes, created: float, expires: float) -> None:
        self._db.one("INSERT INTO ctxguard_approvals (queue, id, created, expires, status, payload) "
                     "VALUES (%s, %s, %s, %s, 'pending', %s) RETURNING 1",
                     (self.name, request_id, created, expires, payload))

    def pending(self) -> list[tuple[str, bytes, float, float]]:
        rows = self._db.all("SELECT id, payload, created, expires FROM ctxguard_approvals "
                            "WHERE queue = %s AND status = 'pending' ORDER BY created", (self.name,))
        return [(str(r[0]), bytes(r[1]), float(r[2]), float(r[3])) for r in rows]

    def answer(self, request_id: str, sealed_answer: bytes) -> bool:
        row = self._db.one("UPDATE ctxguard_approvals SET status = 'answered', answer = %s "
                           "WHERE queue = %s AND id = %s AND status = 'pending' RETURNING 1",
                           (sealed_answer, self.name, request_id))
        return row is not None

    def expire(self, request_id: str) -> bool:
        row = self._db.one("UPDATE ctxguard_approvals SET status = 'expired' "
                           "WHERE queue = %s AND id = %s AND status = 'pending' RETURNING 1", (self.name, request_id))
        return row is not None

    def wait(self, request_id: str, timeout: float) -> bytes | None:
        deadline = time.monotonic() + timeout
        pause = 0.05
        while True:
            state = self.status(request_id)
            if state is not None and state[0] == "answered":
                return state[1]
            left = deadline - time.monotonic()
            if left <= 0 or (state is not None and state[0] == "expired"):
                return None
            time.sleep(min(pause, left))
            pause = min(pause * 1.5, 0.25)

    def status(self, request_id: str) -> tuple[Status, bytes | None] | None:
        row = self._db.one("SELECT status, answer FROM ctxguard_approvals WHERE queue = %s AND id = %s",
                           (self.name, request_id))
        if row is None or row[0] not in ("pending", "answered", "expired"):
            return None
        return str(row[0]), None if row[1] is None else bytes(row[1])  # type: ignore[return-value]

    def close(self) -> None:
        self._db.close()


__all__ = ["PostgresApprovalQueue", "PostgresChainStore", "PostgresVaultStore"]
