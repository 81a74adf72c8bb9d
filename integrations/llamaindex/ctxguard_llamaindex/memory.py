"""Chat memory with labels on write and the session's scope on read.

``GuardedChatMemory`` wraps any LlamaIndex ``BaseMemory`` (``Memory``, the current class in 0.14, by
default; the deprecated ``ChatMemoryBuffer`` works the same) and can stand in for it in an agent.

**Write.** Each message is admitted with ``direction="into_memory"`` under the source its role
implies: ``user`` for the user, ``system`` for system and developer turns, ``tool:<name>`` for tool
results (untrusted by default, ``hostile`` when they carry an injection), and for assistant turns
the join of everything admitted so far in the session (``Session.derived_label``): an answer
written while a web page was in context is no more trusted than the page. The stored message holds
the redacted text and the label, signed over that text, in ``additional_kwargs``. A message the
policy blocks is stored as a one-line placeholder with the reason, so a tool call keeps its result.

**Read.** Each stored message is admitted again, into the model, with its stored label: a label that
fails verification (edited, forged, copied onto other text, signed with another key) gives the
lowest trust, which no tenant session's scope admits; out-of-scope messages are dropped; untrusted
ones come back spotlit. The role is not covered by the signature, so a message whose role implies
another source than its label names (a tool result edited into a ``system`` or ``user`` turn) is
dropped as well. The ctxguard keys are stripped from what ``get`` returns, because
OpenAI-style LLM adapters copy ``additional_kwargs`` into the API request. ``recall`` returns each
message with the Decision that admitted it, so a caller can see the label.

**Persistence.** ``persist(path)`` writes the stored (labelled) messages as JSON and
``GuardedChatMemory.load(path, session)`` puts them back *without relabelling*: the labels are
checked when read. Labels verify in another process only with the same signing key
(``CTXGUARD_SIGNING_KEY``). ``SimpleChatStore.persist`` also keeps the labels (it is tested here);
``persist``/``load`` do not depend on the chat store and work for ``Memory``'s SQL store too.

An assistant turn's tool-call arguments (``ToolCallBlock`` and OpenAI-style
``additional_kwargs["tool_calls"]``) are checked as the model's own earlier output
(``Session.admit_derived``) and stored rewritten, as LangChain's adapters check an ``AIMessage``'s
tool calls.

Limits: only text blocks are admitted; other blocks (images) are stored and returned as given. ``Memory``
blocks (facts, vector memory) insert unlabelled text, which a tenant session drops on read.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, TextBlock, ToolCallBlock
from llama_index.core.bridge.pydantic import PrivateAttr, SerializeAsAny
from llama_index.core.memory import BaseMemory, Memory

from ctxguard import Decision, Direction, Label, Session
from ctxguard.history import DERIVED_SOURCE, source_for_role
from ctxguard.labels import SIGNATURE_KEY
from ctxguard.pipeline.arguments import rewrite_strings
from ctxguard.scope import Scope

from ._keys import label_entries, without_ctxguard_keys

FORMAT = "ctxguard-llamaindex-chat-memory/1"
READ_SOURCE = "memory:chat"
ASSISTANT_SOURCE = "model:assistant"


@dataclass(frozen=True, slots=True)
class RecalledMessage:
    """A message as the model may see it, with the Decision that admitted it."""

    message: ChatMessage
    decision: Decision

    @property
    def label(self) -> Label:
        return self.decision.label


def write_source(message: ChatMessage) -> str | None:
    """The source a message's role implies (``ctxguard.history.source_for_role``); None for model
    turns, whose label is derived."""
    kw = message.additional_kwargs
    name = str(kw.get("name") or kw.get("tool_name") or "")
    source = source_for_role(message.role.value, name=name)
    return None if source == DERIVED_SOURCE else source


def _rewrite_tool_calls(calls: Any, fn: Callable[[str], str]) -> Any:
    """OpenAI-style tool calls (dicts, or objects with ``function.arguments``), arguments rewritten."""
    if not isinstance(calls, list):
        return rewrite_strings(calls, fn)
    out = []
    for call in calls:
        if isinstance(call, dict):
            out.append(rewrite_strings(call, fn))
            continue
        function: Any = getattr(call, "function", None)
        arguments = getattr(function, "arguments", None)
        if isinstance(arguments, str) and hasattr(call, "model_copy") and hasattr(function, "model_copy"):
            call = call.model_copy(update={"function": function.model_copy(update={"arguments": fn(arguments)})})
        elif arguments is not None:
            # An object we cannot copy safely: keep it out of memory rather than store it unchecked.
            call = {"id": getattr(call, "id", None), "withheld": "ctxguard could not check this tool call"}
        out.append(call)
    return out


def _text(message: ChatMessage) -> str:
    return "\n".join(b.text for b in message.blocks if isinstance(b, TextBlock))


def _with_text(message: ChatMessage, text: str, additional_kwargs: dict[str, Any]) -> ChatMessage:
    others = [b for b in message.blocks if not isinstance(b, TextBlock)]
    had_text = len(others) < len(message.blocks)
    blocks = ([TextBlock(text=text)] if had_text or text else []) + others
    return message.model_copy(update={"blocks": blocks, "additional_kwargs": additional_kwargs})


class GuardedChatMemory(BaseMemory):
    """``memory`` with every message labelled on write and scoped to ``session`` on read."""

    memory: SerializeAsAny[BaseMemory]
    min_trust: str | None = None
    _session: Session = PrivateAttr()
    _scope: Scope = PrivateAttr()
    _admitted: dict[tuple[str, str, str], Decision] = PrivateAttr(default_factory=dict)

    def __init__(self, session: Session, memory: BaseMemory | None = None, *, min_trust: str | None = None) -> None:
        fields: dict[str, Any] = {
            "memory": memory if memory is not None else Memory.from_defaults(session_id=session.id),
            "min_trust": min_trust,
        }
        super().__init__(**fields)
        self._session = session
        self._scope = session.scope(min_trust=min_trust)

    @classmethod
    def class_name(cls) -> str:
        return "GuardedChatMemory"

    @classmethod
    def from_defaults(cls, **kwargs: Any) -> GuardedChatMemory:
        """``GuardedChatMemory(session=..., memory=None, min_trust=None)``."""
        return cls(**kwargs)

    @property
    def session(self) -> Session:
        return self._session

    # ---- write ------------------------------------------------------------------------------------
    def _admission(self, message: ChatMessage) -> tuple[str, dict[str, Any]]:
        text = _text(message)
        source = write_source(message)
        if source is None:
            return text, {"source": ASSISTANT_SOURCE, "direction": Direction.INTO_MEMORY,
                          "label": self._session.derived_label(text, ASSISTANT_SOURCE)}
        return text, {"source": source, "direction": Direction.INTO_MEMORY}

    def _stored(self, message: ChatMessage, decision: Decision) -> ChatMessage:
        text = decision.text if decision.allowed else f"[withheld by ctxguard: {decision.reason}]"
        kwargs = {**without_ctxguard_keys(message.additional_kwargs), **label_entries(self._session, decision, text)}
        return _with_text(message, text, kwargs)

    def label(self, message: ChatMessage) -> ChatMessage:
        """The message as it is stored: redacted text, signed label in ``additional_kwargs``, and an
        assistant turn's tool-call arguments checked as the model's own output."""
        message = self._checked_tool_calls(message)
        text, kw = self._admission(message)
        return self._stored(message, self._session.admit(text, **kw))

    async def alabel(self, message: ChatMessage) -> ChatMessage:
        return await asyncio.to_thread(self.label, message)

    def _checked_tool_calls(self, message: ChatMessage) -> ChatMessage:
        """The arguments of the model's earlier tool calls (``ToolCallBlock`` and OpenAI-style
        ``additional_kwargs["tool_calls"]``) go back into context with the history, so each string in
        them is checked as the model's own earlier output (``Session.admit_derived``), as LangChain's
        middleware and callback check an ``AIMessage``'s tool calls."""
        if write_source(message) is not None:
            return message

        def check(text: str) -> str:
            return self._session.history.admit(text, DERIVED_SOURCE).shown_to_model() if text.strip() else text

        blocks = [b.model_copy(update={"tool_kwargs": rewrite_strings(b.tool_kwargs, check)})
                  if isinstance(b, ToolCallBlock) else b for b in message.blocks]
        kwargs = dict(message.additional_kwargs)
        if "tool_calls" in kwargs:
            kwargs["tool_calls"] = _rewrite_tool_calls(kwargs["tool_calls"], check)
        return message.model_copy(update={"blocks": blocks, "additional_kwargs": kwargs})

    def put(self, message: ChatMessage) -> None:
        self.memory.put(self.label(message))

    async def aput(self, message: ChatMessage) -> None:
        await self.memory.aput(await self.alabel(message))

    def put_messages(self, messages: list[ChatMessage]) -> None:
        self.memory.put_messages([self.label(m) for m in messages])

    async def aput_messages(self, messages: list[ChatMessage]) -> None:
        await self.memory.aput_messages([await self.alabel(m) for m in messages])

    def set(self, messages: list[ChatMessage]) -> None:
        self.memory.set([self.label(m) for m in messages])

    async def aset(self, messages: list[ChatMessage]) -> None:
        await self.memory.aset([await self.alabel(m) for m in messages])

    def reset(self) -> None:
        self.memory.reset()
        self._admitted.clear()

    async def areset(self) -> None:
        await self.memory.areset()
        self._admitted.clear()

    # ---- read -------------------------------------------------------------------------------------
    def _key(self, message: ChatMessage) -> tuple[str, str, str]:
        return str(message.additional_kwargs.get(SIGNATURE_KEY, "")), message.role.value, _text(message)

    def _recalled(self, message: ChatMessage, decision: Decision) -> RecalledMessage | None:
        if not decision.allowed or not self._scope.permits(decision.label):
            return None
        if decision.label.source != (write_source(message) or ASSISTANT_SOURCE):
            return None
        return RecalledMessage(_with_text(message, decision.text, without_ctxguard_keys(message.additional_kwargs)),
                               decision)

    def _recall_all(self, stored: list[ChatMessage], admit: Callable[[ChatMessage], Decision]) -> list[RecalledMessage]:
        out = []
        for message in stored:
            key = self._key(message)
            # A stored message is admitted once per session: re-reading it each turn would charge
            # budgets and repeat audit records for content the context already holds.
            decision = self._admitted.get(key)
            if decision is None:
                decision = self._admitted[key] = admit(message)
            recalled = self._recalled(message, decision)
            if recalled is not None:
                out.append(recalled)
        return out

    def _admit_stored(self, message: ChatMessage) -> Decision:
        return self._session.admit(_text(message), READ_SOURCE, metadata=message.additional_kwargs)

    async def _arecall_all(
        self, stored: list[ChatMessage], admit: Callable[[ChatMessage], Awaitable[Decision]]
    ) -> list[RecalledMessage]:
        decisions: dict[tuple[str, str, str], Decision] = {}
        for message in stored:
            key = self._key(message)
            if key not in self._admitted and key not in decisions:
                decisions[key] = await admit(message)
        self._admitted.update(decisions)
        return self._recall_all(stored, lambda m: self._admitted[self._key(m)])

    async def _aadmit_stored(self, message: ChatMessage) -> Decision:
        return await self._session.aadmit(_text(message), READ_SOURCE, metadata=message.additional_kwargs)

    def recall(self, input: str | None = None, **kwargs: Any) -> list[RecalledMessage]:
        """What ``get`` returns, each message with the Decision (and label) that admitted it."""
        return self._recall_all(self.memory.get(input=input, **kwargs), self._admit_stored)

    async def arecall(self, input: str | None = None, **kwargs: Any) -> list[RecalledMessage]:
        return await self._arecall_all(await self.memory.aget(input=input, **kwargs), self._aadmit_stored)

    def get(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        return [r.message for r in self.recall(input, **kwargs)]

    async def aget(self, input: str | None = None, **kwargs: Any) -> list[ChatMessage]:
        return [r.message for r in await self.arecall(input, **kwargs)]

    def get_all(self) -> list[ChatMessage]:
        return [r.message for r in self._recall_all(self.memory.get_all(), self._admit_stored)]

    async def aget_all(self) -> list[ChatMessage]:
        stored = await self.memory.aget_all()
        return [r.message for r in await self._arecall_all(stored, self._aadmit_stored)]

    # ---- persistence ------------------------------------------------------------------------------
    def stored_messages(self) -> list[ChatMessage]:
        """The messages as stored, labels included (not for a model: nothing is checked here)."""
        return self.memory.get_all()

    def persist(self, path: str | os.PathLike[str]) -> None:
        """Write the stored messages, with their signed labels, to ``path`` as JSON (atomically)."""
        data = {"format": FORMAT, "messages": [m.model_dump(mode="json") for m in self.stored_messages()]}
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        session: Session,
        memory: BaseMemory | None = None,
        *,
        min_trust: str | None = None,
    ) -> GuardedChatMemory:
        """A memory holding the messages ``persist`` wrote, labels as stored: they are verified on read."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("messages"), list):
            raise ValueError(f"not a ctxguard chat memory file (expected format {FORMAT!r})")
        guarded = cls(session, memory, min_trust=min_trust)
        guarded.memory.set([ChatMessage.model_validate(m) for m in data["messages"]])
        return guarded
