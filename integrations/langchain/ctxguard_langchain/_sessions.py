"""One ctxguard session per LangGraph conversation: the bounded, thread-safe table behind ``session_factory``.

A server builds one agent and serves many users through it, each conversation under its own
``thread_id``. A ctxguard ``Session`` is one principal's conversation (tenant scope, pseudonym vault,
provenance, budget), so sharing one between users would leak all four. This module keys the
sessions a factory opens by ``thread_id``, keeps at most ``max_sessions`` of them (least recently
used goes first, and is closed), and never hands one session to two conversations.

The factory is the application's: it reads the principal and tenant from the run's ``configurable``,
which the server sets from its own authentication, never from anything a user or a model wrote.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_config

from ctxguard import CtxGuardError, Firewall, Session

SessionFactory = Callable[[RunnableConfig], Session]
T = TypeVar("T")


class MissingThreadId(CtxGuardError):
    """A run under a ``session_factory`` middleware carries no ``thread_id``.

    Without one the run cannot be told apart from any other, and a session shared between runs would
    share a tenant scope and a pseudonym vault between users: the run stops instead.
    """


class SessionUnavailable(CtxGuardError):
    """The ``session_factory`` raised, or returned something that is not a fresh, open session of this firewall."""


def run_config(config: RunnableConfig | None = None) -> RunnableConfig | None:
    """The config of the run in progress: ``config`` if given, else LangGraph's (None outside a run)."""
    if config is not None:
        return config
    try:
        return get_config()
    except RuntimeError:  # outside a runnable context
        return None


def thread_id_of(config: RunnableConfig | None) -> str:
    """The conversation a run belongs to; raises ``MissingThreadId`` when the run names none."""
    configurable = (config or {}).get("configurable") or {}
    thread_id = configurable.get("thread_id")
    if thread_id is None or thread_id == "":
        raise MissingThreadId(
            "ctxguard: this middleware opens one session per conversation (session_factory=...), and the run "
            "has no thread_id: pass config={'configurable': {'thread_id': ...}} to invoke/stream"
        )
    return str(thread_id)


@dataclass(slots=True)
class _Entry(Generic[T]):
    value: T
    users: int = 0
    evicted: bool = False


@dataclass(slots=True)
class ConversationTable(Generic[T]):
    """``thread_id`` -> the conversation's state (a session and what belongs with it), LRU-bounded.

    ``wrap`` turns a freshly opened session into the state kept for it; ``session_of`` reads the
    session back (to close it). An entry in use (between ``acquire`` and its release) is closed only
    when its last user lets go, so eviction never pulls a session out from under a running check.
    """

    firewall: Firewall
    factory: SessionFactory
    wrap: Callable[[Session], T]
    session_of: Callable[[T], Session]
    max_sessions: int = 1024
    _entries: OrderedDict[str, _Entry[T]] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _closed: bool = False

    def __post_init__(self) -> None:
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def threads(self) -> list[str]:
        """The conversations holding a session, least recently used first."""
        with self._lock:
            return list(self._entries)

    def get(self, config: RunnableConfig) -> T:
        """The conversation's state, opening its session on first use (no use count taken)."""
        with self.acquire(config) as value:
            return value

    @contextmanager
    def acquire(self, config: RunnableConfig | None) -> Iterator[T]:
        """The state of ``config``'s conversation, kept open while the ``with`` block runs."""
        entry = self._checkout(thread_id_of(config), config or {})
        try:
            yield entry.value
        finally:
            self._release(entry)

    def close(self) -> None:
        """Close every session this table opened; later uses fail closed."""
        with self._lock:
            self._closed = True
            entries = list(self._entries.values())
            self._entries.clear()
            for e in entries:
                e.evicted = True
        for e in entries:
            self._close_if_idle(e)

    # ---- internals ---------------------------------------------------------------------------------
    def _checkout(self, thread_id: str, config: RunnableConfig) -> _Entry[T]:
        with self._lock:
            entry = self._use(thread_id)
        if entry is not None:
            return entry
        # The factory may be slow (a user lookup): it runs outside the lock, and a conversation opened
        # twice at once keeps the first session and closes the second.
        session = self._open(config)
        spare: Session | None = session
        evicted: list[_Entry[T]] = []
        with self._lock:
            entry = self._use(thread_id)
            if entry is None:
                if any(self.session_of(e.value) is session for e in self._entries.values()):
                    raise SessionUnavailable("ctxguard: session_factory returned a session that already serves "
                                             "another conversation; each thread_id needs its own session")
                entry = _Entry(self.wrap(session), users=1)
                self._entries[thread_id] = entry
                while len(self._entries) > self.max_sessions:
                    _, old = self._entries.popitem(last=False)
                    old.evicted = True
                    evicted.append(old)
                spare = None  # kept
        if spare is not None:
            spare.close()
        for old in evicted:
            self._close_if_idle(old)
        return entry

    def _use(self, thread_id: str) -> _Entry[T] | None:
        if self._closed:
            raise SessionUnavailable("ctxguard: the middleware was closed; its sessions are ended")
        entry = self._entries.get(thread_id)
        if entry is not None:
            self._entries.move_to_end(thread_id)
            entry.users += 1
        return entry

    def _open(self, config: RunnableConfig) -> Session:
        try:
            session: Any = self.factory(config)
        except Exception as exc:
            # The type only: a factory's message may carry a user id or a token.
            raise SessionUnavailable(f"ctxguard: session_factory raised {type(exc).__name__}") from exc
        if not isinstance(session, Session):
            raise SessionUnavailable(f"ctxguard: session_factory returned {type(session).__name__}, not a Session")
        if session.closed:
            raise SessionUnavailable("ctxguard: session_factory returned a closed session")
        if session.firewall is not self.firewall:
            raise SessionUnavailable("ctxguard: session_factory returned a session of another Firewall")
        return session

    def _release(self, entry: _Entry[T]) -> None:
        with self._lock:
            entry.users -= 1
        self._close_if_idle(entry)

    def _close_if_idle(self, entry: _Entry[T]) -> None:
        with self._lock:
            if not entry.evicted or entry.users > 0:
                return
        self.session_of(entry.value).close()  # Session.close is idempotent
