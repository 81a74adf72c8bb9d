"""A scripted chat model and an offline embedding for tests, examples and benchmarks: no API key, no network.

LangChain's own fake chat models do not implement ``bind_tools``, which ``create_agent`` calls on
every model call. ``ScriptedChatModel`` does (it returns ``self.bind(tools=...)``), replies with the
scripted ``AIMessage``s in order, and records exactly what it was given after every middleware ran,
so a test can assert on what the model saw.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.embeddings import Embeddings
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, PrivateAttr

from ctxguard.memory.embedding import HashingEmbedding

Reply = AIMessage | Callable[[list[BaseMessage]], AIMessage]


class ScriptedChatModel(BaseChatModel):
    """Answers with ``replies`` in order; a reply may be a function of the messages it was given."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    replies: list[Any]
    chunk_size: int = 8
    _seen: list[list[BaseMessage]] = PrivateAttr(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _next: int = PrivateAttr(default=0)

    @property
    def _llm_type(self) -> str:
        return "ctxguard-scripted"

    @property
    def seen(self) -> list[list[BaseMessage]]:
        """Every message list the model was called with, in order (after all middleware)."""
        return self._seen

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> Runnable[LanguageModelInput, AIMessage]:
        return self.bind(tools=tools, **kwargs)

    def _reply(self, messages: list[BaseMessage]) -> AIMessage:
        with self._lock:
            self._seen.append(list(messages))
            if self._next >= len(self.replies):
                raise RuntimeError(f"ScriptedChatModel ran out of replies after {len(self.replies)} calls")
            reply = self.replies[self._next]
            self._next += 1
        msg = reply(list(messages)) if callable(reply) else reply
        if not isinstance(msg, AIMessage):
            raise TypeError(f"a scripted reply must be an AIMessage, not {type(msg).__name__}")
        return msg.model_copy()

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self._reply(messages))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        msg = self._reply(messages)
        text = msg.content if isinstance(msg.content, str) else ""
        pieces = [text[i : i + self.chunk_size] for i in range(0, len(text), self.chunk_size)] or [""]
        for n, piece in enumerate(pieces):
            last = n == len(pieces) - 1
            chunk = AIMessageChunk(
                content=piece,
                id=msg.id,
                tool_call_chunks=[
                    {"name": tc["name"], "args": json.dumps(tc["args"]), "id": tc["id"], "index": i}
                    for i, tc in enumerate(msg.tool_calls)
                ]
                if last
                else [],
            )
            if run_manager is not None and piece:
                run_manager.on_llm_new_token(piece, chunk=ChatGenerationChunk(message=chunk))
            yield ChatGenerationChunk(message=chunk)


class HashingEmbeddings(Embeddings):
    """LangChain's ``Embeddings`` over ctxguard's ``HashingEmbedding``: deterministic, no download,
    ranks by shared words (for tests and demos; use a real model in production)."""

    def __init__(self, dim: int = 384) -> None:
        self._embed = HashingEmbedding(dim=dim)

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [self.embed_query(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return [float(x) for x in self._embed(text)]
