"""A query engine whose question is admitted and whose answer is checked before anyone sees it.

Retrieval wrappers guard what goes *into* the prompt; an answer can still carry data *out*: a markdown
image whose URL holds what the model read, a secret it repeated, a canary. ``GuardedQueryEngine``
wraps any LlamaIndex query engine (a ``RetrieverQueryEngine`` over a ``GuardedRetriever``, a router, a
sub-question engine) and translates both ends into the core:

* the question is admitted as the user's words (``Session.admit``, source ``user``), so provenance and
  the support signal know what the user asked, and the engine gets it redacted as the policy says for
  ``into_model`` (``redact_query=False`` passes the original text on, for engines whose retrieval needs
  the exact string); a refused question is answered with the refusal and the engine never runs;
* the answer goes through ``Session.check_output``: the user sees the decision's text (pseudonyms
  restored where the policy allows) or the core's refusal sentence. A streamed answer goes through the
  session's hold-back window (``stream_output``), which releases only text already checked; a
  structured (pydantic) answer is checked as its JSON.

Every decision is the core's; this module only moves text between LlamaIndex objects and the session.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Generator, Iterable
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.response.schema import (
    RESPONSE_TYPE,
    AsyncStreamingResponse,
    PydanticResponse,
    Response,
    StreamingResponse,
)
from llama_index.core.schema import QueryBundle

from ctxguard import Decision, Session


class GuardedQueryEngine(BaseQueryEngine):
    """``engine`` with its question admitted and its answer checked by ``session`` (sync and async)."""

    def __init__(self, engine: BaseQueryEngine, session: Session, *, redact_query: bool = True) -> None:
        if not isinstance(engine, BaseQueryEngine):
            raise TypeError(f"engine must be a LlamaIndex BaseQueryEngine, not {type(engine).__name__}")
        if not isinstance(session, Session):
            raise TypeError(f"session must be a ctxguard Session, not {type(session).__name__}")
        self._engine = engine
        self._session = session
        self._redact_query = redact_query
        super().__init__(callback_manager=engine.callback_manager)

    def _get_prompt_modules(self) -> dict[str, Any]:
        return {"engine": self._engine}

    # ---- the question ---------------------------------------------------------------------------
    def _admitted(self, query_bundle: QueryBundle) -> tuple[QueryBundle | None, Decision]:
        d = self._session.admit(query_bundle.query_str, source="user")
        if not d.allowed:
            return None, d
        if not self._redact_query or d.text == query_bundle.query_str:
            return query_bundle, d
        # The embedding is computed again from the redacted text: one made from the original would
        # carry what the redaction took out.
        return QueryBundle(query_str=d.text), d

    # ---- the answer -----------------------------------------------------------------------------
    def _checked(self, response: RESPONSE_TYPE) -> RESPONSE_TYPE:
        if isinstance(response, StreamingResponse):
            return StreamingResponse(response_gen=self._checked_stream(response.response_gen or iter(())),
                                     source_nodes=response.source_nodes, metadata=response.metadata)
        if isinstance(response, AsyncStreamingResponse):
            return AsyncStreamingResponse(response_gen=self._achecked_stream(response.async_response_gen()),
                                          source_nodes=response.source_nodes, metadata=response.metadata)
        if isinstance(response, PydanticResponse):
            d = self._session.check_output(json.dumps(response.response.model_dump(mode="json") if
                                                      response.response is not None else None, sort_keys=True))
            if d.allowed:
                return response
            return Response(response=d.refusal(), source_nodes=response.source_nodes, metadata=response.metadata)
        d = self._session.check_output(response.response or "")
        text = d.text if d.allowed else d.refusal()
        return Response(response=text, source_nodes=response.source_nodes, metadata=response.metadata)

    def _checked_stream(self, chunks: Iterable[str]) -> Generator[str, None, None]:
        with self._session.stream_output() as out:
            for chunk in chunks:
                shown = out.feed(chunk)
                if shown:
                    yield shown
                if out.blocked:
                    break
            final = out.close()
        yield final.text if final.allowed else "\n" + final.refusal()

    async def _achecked_stream(self, chunks: AsyncGenerator[str, None]) -> AsyncGenerator[str, None]:
        with self._session.stream_output() as out:
            async for chunk in chunks:
                shown = await asyncio.to_thread(out.feed, chunk)
                if shown:
                    yield shown
                if out.blocked:
                    break
            final = await asyncio.to_thread(out.close)
        yield final.text if final.allowed else "\n" + final.refusal()

    # ---- BaseQueryEngine --------------------------------------------------------------------------
    def _query(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        admitted, d = self._admitted(query_bundle)
        if admitted is None:
            return Response(response=d.refusal())
        return self._checked(self._engine.query(admitted))

    async def _aquery(self, query_bundle: QueryBundle) -> RESPONSE_TYPE:
        admitted, d = await asyncio.to_thread(self._admitted, query_bundle)
        if admitted is None:
            return Response(response=d.refusal())
        response = await self._engine.aquery(admitted)
        if isinstance(response, AsyncStreamingResponse | StreamingResponse):
            return self._checked(response)
        return await asyncio.to_thread(self._checked, response)

    def __repr__(self) -> str:
        return f"GuardedQueryEngine({type(self._engine).__name__}, session={self._session.id!r})"


__all__ = ["GuardedQueryEngine"]
