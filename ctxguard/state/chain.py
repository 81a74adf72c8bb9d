"""One audit chain written by many processes, kept in Redis or PostgreSQL.

A file-backed ``AuditLog`` keeps its chain position in the writer, so two processes appending to one
file would fork the chain. Here the position lives in the server and each append is one atomic step
there: "if the head is still (seq, hash), add this record and move the head" (a Lua script in Redis;
a transaction under an advisory lock in PostgreSQL, with the (chain, seq) primary key as a backstop).
Records are hashed (keyed, when ``audit.key_env`` is set) by the writer, exactly as a file log's are,
so ``verify_lines`` checks a shared chain with the same code, and ``export`` writes it out as a file
log plus head file that ``ctxguard audit verify`` and ``audit report`` read.

When the server cannot be reached the append raises ``StateUnavailable``, so the check that produced
the event fails closed. With ``audit.spool`` set, the event is first written (and fsynced) to a local
spool file; the next append that reaches the server chains the spooled events first, in order, each
marked with ``spooled_at``. Nothing is lost either way: the event is in the chain, in the spool, or
the caller got an error for it.
"""

from __future__ import annotations

import collections
import copy
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

from ..audit import (
    RECENT_RECORDS_KEPT,
    VerifyReport,
    check_key,
    encode_record,
    plain_event,
    verify_lines,
)
from ..errors import IntegrityError, StateUnavailable

Build = Callable[[int, str], tuple[str, str]]
"""Given the next (seq, prev hash), make the record: returns (its hash, its line)."""


class ChainStore(Protocol):
    """Where a shared chain lives. ``append`` must be atomic against every other writer."""

    name: str

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last record; (-1, GENESIS) for an empty chain."""
        ...

    def append(self, build: Build) -> tuple[int, str]:
        """Add the record ``build`` makes for the current head; returns its (seq, hash)."""
        ...

    def lines(self) -> Iterator[bytes]:
        """Every record's line, in seq order."""
        ...

    def close(self) -> None:
        ...


class SharedAuditLog:
    """An ``AuditWriter`` over a :class:`ChainStore`: one verifiable sequence for every process."""

    def __init__(self, store: ChainStore, *, key: bytes | None = None, spool: str | os.PathLike[str] | None = None
                 ) -> None:
        self._store = store
        self._key = check_key(key)
        self._spool = None if spool is None else os.fspath(spool)
        self._lock = threading.Lock()
        self._recent: collections.deque[dict[str, Any]] = collections.deque(maxlen=RECENT_RECORDS_KEPT)
        self._last: tuple[int, str] | None = None
        self._closed = False

    @property
    def store(self) -> ChainStore:
        return self._store

    def append(self, event: Mapping[str, Any]) -> str:
        plain = plain_event(event)
        with self._lock:
            if self._closed:
                raise ValueError("append to a closed SharedAuditLog")
            try:
                self._drain_spool()
                return self._chain(plain)
            except StateUnavailable:
                if self._spool is None:
                    raise
                self._to_spool(plain)
                raise StateUnavailable(
                    f"{self._store.name} is unavailable; the audit event was kept in the spool and will be "
                    "chained when the store is back"
                ) from None

    def _chain(self, plain: dict[str, Any]) -> str:
        made: list[str] = []

        def build(seq: int, prev: str) -> tuple[str, str]:
            digest, line = encode_record(seq, prev, plain, self._key)
            made[:] = [line]
            return digest, line

        seq, digest = self._store.append(build)
        self._last = (seq, digest)
        self._recent.append(json.loads(made[0]))
        return digest

    # ---- the spool: events that could not reach the server ---------------------------------------
    def _to_spool(self, plain: dict[str, Any]) -> None:
        assert self._spool is not None
        line = json.dumps({"spooled_at": time.time(), "event": plain}, sort_keys=True, ensure_ascii=False)
        fd = os.open(self._spool, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, (line + "\n").encode("utf-8", "surrogatepass"))
            os.fsync(fd)
        finally:
            os.close(fd)  # closing releases the lock

    def _drain_spool(self) -> None:
        """Chain what the spool holds, oldest first; what could not be chained stays in it."""
        if self._spool is None:
            return
        try:
            if os.path.getsize(self._spool) == 0:
                return
        except FileNotFoundError:
            return
        fd = os.open(self._spool, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # other processes sharing the spool wait for this drain
            with os.fdopen(os.dup(fd), "rb") as f:
                lines = [raw for raw in f.read().split(b"\n") if raw.strip()]
            done = 0
            try:
                for raw in lines:
                    entry = json.loads(raw)
                    event = dict(entry["event"])
                    event["spooled_at"] = entry["spooled_at"]
                    self._chain(event)
                    done += 1
            finally:
                rest = b"".join(raw + b"\n" for raw in lines[done:])
                os.lseek(fd, 0, os.SEEK_SET)
                os.ftruncate(fd, 0)
                if rest:
                    os.write(fd, rest)
                os.fsync(fd)
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrityError(f"the audit spool {self._spool} is damaged ({type(exc).__name__})") from None
        finally:
            os.close(fd)

    def spooled(self) -> int:
        """How many events wait in the spool."""
        if self._spool is None or not os.path.exists(self._spool):
            return 0
        with open(self._spool, "rb") as f:
            return sum(1 for raw in f if raw.strip())

    # ---- reading ----------------------------------------------------------------------------------
    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._recent))

    @property
    def head(self) -> tuple[int, str]:
        """The chain's head as the server has it now (every process's records count)."""
        return self._store.head()

    @property
    def path(self) -> str | None:
        return None

    def verify(self) -> VerifyReport:
        """Check the whole shared chain, as ``audit.verify`` checks a file."""
        head = self._store.head()
        return verify_lines(self._store.lines(), key=self._key, head=head, name=self._store.name)

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._store.close()

    def __enter__(self) -> SharedAuditLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def export(store: ChainStore, path: str | os.PathLike[str]) -> tuple[int, int]:
    """Write the chain to ``path`` as a file log with its ``.head`` file; returns (records, head seq).

    The head is read before the lines, so records appended meanwhile make the export longer than its
    head, which verifies; reading it after could record a head the export does not reach.
    """
    target = os.fspath(path)
    head = store.head()
    count = 0
    with open(target, "wb") as f:
        for raw in store.lines():
            f.write(raw.rstrip(b"\n") + b"\n")
            count += 1
    with open(target + ".head", "w", encoding="utf-8") as f:
        f.write(json.dumps({"hash": head[1], "seq": head[0]}, separators=(",", ":"), sort_keys=True) + "\n")
    return count, head[0]


__all__ = ["Build", "ChainStore", "SharedAuditLog", "export"]
