"""Conversation messages entering the context: one role map and one admission per message.

Every framework has its own message types (LangChain's ``HumanMessage``, LlamaIndex's
``MessageRole.USER``, a plain ``{"role": "user"}``); an adapter names the role, and everything after
that is decided here, once, so the same history gives the same decisions in every adapter:

* ``user`` -> source ``user``; ``system`` / ``developer`` -> ``system``; ``tool`` / ``function`` ->
  ``tool:<name>`` (or the adapter's ``tool_sources`` entry);
* ``assistant`` (the model's own earlier turns, and the arguments of its earlier tool calls) ->
  ``Session.admit_derived``: redacted into the model with the session's pseudonyms, never a new
  source (see that method for why);
* a role nobody declared -> the policy's trust for unknown sources (``trust.default``), as any
  unknown source.

A chat model is started once per agent step with the whole history, so each message version must
enter the session once: a second admission would charge its tokens again and add it to the
context's segments twice. ``History`` keeps the decision per (source, label signature, content
hash): the same text under another tenant's signed label is another admission, never a cache hit.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .decision import Decision
from .labels import SIGNATURE_KEY

if TYPE_CHECKING:
    from .session import Session

DERIVED_SOURCE = "model:history"

_ROLE_SOURCES = {"user": "user", "human": "user", "system": "system", "developer": "system"}
_TOOL_ROLES = frozenset({"tool", "function"})
_MODEL_ROLES = frozenset({"assistant", "ai", "model", "chatbot"})
# Beyond this many remembered admissions a session forgets the oldest half (a very long conversation
# must not grow without bound; a forgotten message is admitted again, which costs time, not safety).
MAX_REMEMBERED = 20_000


def source_for_role(role: str, *, name: str = "", tool_sources: Mapping[str, str] | None = None) -> str:
    """The ctxguard source of a message with ``role`` (see the module docstring); ``name`` is a tool
    message's tool. ``DERIVED_SOURCE`` for the model's own turns."""
    r = role.strip().lower()
    if r in _ROLE_SOURCES:
        return _ROLE_SOURCES[r]
    if r in _TOOL_ROLES:
        tool = name or "unknown"
        return (tool_sources or {}).get(tool, f"tool:{tool}")
    if r in _MODEL_ROLES:
        return DERIVED_SOURCE
    return f"role:{r or 'unknown'}"


class History:
    """A session's admissions of conversation messages, each message version once."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._lock = threading.Lock()
        self._seen: dict[str, Decision] = {}

    def admit(self, text: str, source: str, *, metadata: Mapping[str, Any] | None = None) -> Decision:
        """The decision for ``text`` from ``source``: made once, then the same decision again."""
        key = self._key(text, source, metadata)
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None:
            return seen
        if source == DERIVED_SOURCE:
            decision = self._session.admit_derived(text, source)
        else:
            decision = self._session.admit(text, source, metadata=metadata)
        with self._lock:
            if len(self._seen) >= MAX_REMEMBERED:
                for old in list(self._seen)[: MAX_REMEMBERED // 2]:
                    del self._seen[old]
            self._seen.setdefault(key, decision)
            return self._seen[key]

    def seen(self, text: str, source: str, metadata: Mapping[str, Any] | None = None) -> Decision | None:
        """The decision already made for this message version, if any."""
        with self._lock:
            return self._seen.get(self._key(text, source, metadata))

    @staticmethod
    def _key(text: str, source: str, metadata: Mapping[str, Any] | None) -> str:
        # A signed label is part of what is admitted: the same text under another label is another
        # admission (and may well be out of scope).
        signature = str((metadata or {}).get(SIGNATURE_KEY, ""))
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        return f"{source}\x00{signature}\x00{digest}"
