"""An instrumentation event handler that writes what LlamaIndex did into the ctxguard audit log.

It can only observe. LlamaIndex's dispatcher calls every handler inside ``try/except BaseException:
pass``, so a handler cannot stop a retrieval, a prompt or a tool call, and an exception raised here
would vanish. Enforcement lives in the wrappers (``GuardedRetriever``, ``CtxGuardNodePostprocessor``,
``GuardedTool``, ``GuardedChatMemory``); this handler gives the audit trail the framework's side of
the story: which queries ran, how many nodes came back and how many of them carried a ctxguard
label, which LLM calls were made, which tools the agent called.

Records are log-safe: texts appear as a keyed hash and a length (``Session.content_hmac``), never as
values, and each record goes through ``Session.record_event``, which refuses anything that is not an
identifier, a number or a hash. Registered on the root dispatcher, the handler sees every event in
the process: attach it for one session's work (``with CtxGuardEventHandler(session):``) rather than
for the life of a server that runs many sessions at once.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from llama_index.core.instrumentation.events.agent import AgentToolCallEvent
from llama_index.core.instrumentation.events.embedding import EmbeddingEndEvent
from llama_index.core.instrumentation.events.exception import ExceptionEvent
from llama_index.core.instrumentation.events.llm import (
    LLMChatEndEvent,
    LLMChatStartEvent,
    LLMCompletionEndEvent,
    LLMCompletionStartEvent,
    LLMPredictEndEvent,
)
from llama_index.core.instrumentation.events.query import QueryEndEvent, QueryStartEvent
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent
from llama_index.core.instrumentation.events.retrieval import RetrievalEndEvent, RetrievalStartEvent
from llama_index.core.instrumentation.events.synthesis import SynthesizeEndEvent
from llama_index.core.schema import QueryBundle
from llama_index_instrumentation import get_dispatcher
from llama_index_instrumentation.dispatcher import Dispatcher

from ctxguard import Session
from ctxguard.labels import METADATA_KEY, SIGNATURE_KEY
from ctxguard.session import is_event_value

EVENT_TYPE = "llamaindex_event"


class CtxGuardEventHandler(BaseEventHandler):
    """Audit LlamaIndex instrumentation events for ``session`` (observe only; see the module docstring)."""

    _session: Session = PrivateAttr()
    _dispatcher: Dispatcher | None = PrivateAttr(default=None)

    def __init__(self, session: Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._session = session

    @classmethod
    def class_name(cls) -> str:
        return "CtxGuardEventHandler"

    # ---- registration -----------------------------------------------------------------------------
    def attach(self, dispatcher: Dispatcher | None = None) -> CtxGuardEventHandler:
        """Register on ``dispatcher`` (the root one by default, which sees every event)."""
        self.detach()
        self._dispatcher = dispatcher or get_dispatcher()
        self._dispatcher.add_event_handler(self)
        return self

    def detach(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.event_handlers = [h for h in self._dispatcher.event_handlers if h is not self]
            self._dispatcher = None

    def __enter__(self) -> CtxGuardEventHandler:
        return self.attach()

    def __exit__(self, *exc: object) -> None:
        self.detach()

    # ---- events -----------------------------------------------------------------------------------
    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        fields = self.fields(event)
        if fields is None:
            return
        span = event.span_id or ""
        self._session.record_event(
            EVENT_TYPE, event=event.class_name(),
            span=self._loggable(span), **fields,
        )

    def _loggable(self, value: str) -> str:
        """``value`` itself when it is an identifier the audit log takes, else its keyed hash."""
        return value if value and is_event_value(value) else self._session.content_hmac(value)

    def _text(self, name: str, text: str) -> dict[str, Any]:
        return {f"{name}_hmac": self._session.content_hmac(text), f"{name}_chars": len(text)}

    def fields(self, event: BaseEvent) -> dict[str, Any] | None:
        """The log-safe fields recorded for ``event``; None for events not recorded (streaming deltas)."""
        if isinstance(event, RetrievalStartEvent | QueryStartEvent):
            query = event.str_or_query_bundle if isinstance(event, RetrievalStartEvent) else event.query
            return self._text("query", _query_text(query))
        if isinstance(event, RetrievalEndEvent):
            labelled = sum(1 for n in event.nodes if METADATA_KEY in n.node.metadata)
            signed = sum(1 for n in event.nodes if SIGNATURE_KEY in n.node.metadata)
            return {**self._text("query", _query_text(event.str_or_query_bundle)), "nodes": len(event.nodes),
                    "labelled": labelled, "signed": signed}
        if isinstance(event, QueryEndEvent | SynthesizeEndEvent):
            return self._text("response", str(event.response))
        if isinstance(event, ReRankEndEvent):
            return {"nodes": len(event.nodes)}
        if isinstance(event, LLMChatStartEvent):
            joined = "\n".join(str(m.content or "") for m in event.messages)
            return {**self._text("messages", joined), "messages": len(event.messages)}
        if isinstance(event, LLMChatEndEvent):
            reply = "" if event.response is None else str(event.response.message.content or "")
            return self._text("response", reply)
        if isinstance(event, LLMCompletionStartEvent):
            return self._text("prompt", event.prompt)
        if isinstance(event, LLMCompletionEndEvent):
            return self._text("response", event.response.text)
        if isinstance(event, LLMPredictEndEvent):
            return self._text("response", event.output)
        if isinstance(event, EmbeddingEndEvent):
            return {"chunks": len(event.chunks)}
        if isinstance(event, AgentToolCallEvent):
            return {"tool": self._loggable(event.tool.get_name()), **self._text("arguments", event.arguments)}
        if isinstance(event, ExceptionEvent):
            return {"error": type(event.exception).__name__}
        return None


def _query_text(query: Any) -> str:
    return query.query_str if isinstance(query, QueryBundle) else str(query)
