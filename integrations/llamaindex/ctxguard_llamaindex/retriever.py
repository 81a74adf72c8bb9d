"""A retriever that only ever searches what the session may see, then admits what it found.

``GuardedRetriever`` wraps any LlamaIndex retriever. The scope comes from the session (its tenant and
clearance, checked by the policy when the session opened, and an optional trust floor), never from
the query text or the model, so nothing a prompt says can widen it:

1. **In the store.** For a retriever that passes ``MetadataFilters`` to its vector store (a
   ``VectorIndexRetriever``, or any retriever with a ``_filters`` attribute), the scope is applied as
   an AND of IN-filters on the plain keys ``Session.sign`` writes (``ctxguard_tenant``,
   ``ctxguard_confidentiality``, ``ctxguard_trust``), intersected with the filters the user set (never
   replacing them), on a per-call copy of the retriever: the wrapped object is not mutated and
   concurrent calls do not share state. The store ranks only permitted nodes, so k results come back
   whenever k exist.
2. **On the result.** Every node then goes through ``CtxGuardNodePostprocessor``: signature verified,
   scope checked on the signed label, scanned, redacted, spotlit when untrusted, or dropped.

Fail closed: a retriever that offers no filter hook is refused at construction with
``ConfigurationError`` unless ``post_filter_only=True`` says the caller accepts step 2 alone (which
may return fewer than k nodes, none at all if the top k belong to someone else). If the store raises
while searching with the scope filter (a store that does not support IN-filters or nested filters:
``SimpleVectorStore`` cannot nest them, which a user's OR-filter needs), the retrieval returns
no nodes and writes a ``retrieval_refused`` record with the exception's type: the same
rule as a check that cannot run in the core, which blocks rather than raises.
"""

from __future__ import annotations

import copy
from typing import Any

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks.base import CallbackManager
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.vector_stores.types import (
    FilterCondition,
    FilterOperator,
    MetadataFilter,
    MetadataFilters,
)

from ctxguard import ConfigurationError, Session
from ctxguard.retrieval import refuse_retrieval
from ctxguard.scope import Scope

from .postprocessor import DEFAULT_SOURCE, CtxGuardNodePostprocessor

_MISSING = object()


def scope_filters(scope: Scope) -> MetadataFilters:
    """The store-side filter for ``scope``: every field's value must be one of its allowed values."""
    return MetadataFilters(
        filters=[
            MetadataFilter(key=key, value=list(allowed), operator=FilterOperator.IN)
            for key, allowed in scope.metadata_filter().items()
        ],
        condition=FilterCondition.AND,
    )


def intersect(user: MetadataFilters | None, scope: MetadataFilters) -> MetadataFilters:
    """``user``'s filters AND ``scope``'s: flat when the user's are a flat AND, nested otherwise."""
    if user is None or not user.filters:
        return scope
    flat = all(not isinstance(f, MetadataFilters) for f in user.filters)
    if flat and user.condition in (None, FilterCondition.AND):
        return MetadataFilters(filters=[*user.filters, *scope.filters], condition=FilterCondition.AND)
    # Stores that cannot nest filters raise here; GuardedRetriever turns that into an empty result.
    return MetadataFilters(filters=[user, scope], condition=FilterCondition.AND)


def _filter_hook(retriever: BaseRetriever) -> bool:
    current = getattr(retriever, "_filters", _MISSING)
    return current is None or isinstance(current, MetadataFilters)


class GuardedRetriever(BaseRetriever):
    """``retriever`` scoped to ``session`` in the store and admitted node by node (sync and async).

    Args:
        retriever: the retriever to wrap; it is copied per call, never changed.
        session: whose scope applies and where decisions are audited.
        source: the source name given to admitted nodes (``retriever:llamaindex`` by default).
        min_trust: hide nodes labelled below this trust level (a memory written from a tool, say).
        post_filter_only: accept a retriever with no filter hook; results are then filtered after
            retrieval only, so fewer than k nodes (possibly none) may come back.
    """

    def __init__(
        self,
        retriever: BaseRetriever,
        session: Session,
        *,
        source: str | None = None,
        min_trust: str | None = None,
        post_filter_only: bool = False,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        if not isinstance(retriever, BaseRetriever):
            raise TypeError(f"retriever must be a LlamaIndex BaseRetriever, not {type(retriever).__name__}")
        self._inner = retriever
        self._session = session
        self._scope = session.scope(min_trust=min_trust)
        self._filtered = _filter_hook(retriever)
        if not self._filtered and not post_filter_only:
            raise ConfigurationError(
                f"{type(retriever).__name__} cannot apply a metadata filter, so ctxguard cannot scope the "
                "search to the session; pass post_filter_only=True to accept filtering after retrieval "
                "(fewer than k results may return)"
            )
        self._admission = CtxGuardNodePostprocessor(session, source=source or DEFAULT_SOURCE, min_trust=min_trust)
        super().__init__(callback_manager=callback_manager or getattr(retriever, "callback_manager", None))

    @property
    def scope(self) -> Scope:
        return self._scope

    @property
    def postprocessor(self) -> CtxGuardNodePostprocessor:
        return self._admission

    def scoped_retriever(self) -> BaseRetriever:
        """A copy of the wrapped retriever with the scope filter in place (the wrapped one as is when
        only post-filtering is possible)."""
        if not self._filtered:
            return self._inner
        scoped = copy.copy(self._inner)
        own: Any = getattr(self._inner, "_filters", None)
        scoped._filters = intersect(own, scope_filters(self._scope))  # type: ignore[attr-defined]
        return scoped

    def _refused(self, exc: Exception) -> list[NodeWithScore]:
        refuse_retrieval(self._session, exc, type(self._inner).__name__)
        return []

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        scoped = self.scoped_retriever()
        if not self._filtered:
            nodes = scoped.retrieve(query_bundle)
        else:
            try:
                nodes = scoped.retrieve(query_bundle)
            except Exception as exc:  # the store could not apply the scope: nothing, not everything
                return self._refused(exc)
        return self._admission.postprocess_nodes(nodes, query_bundle)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        scoped = self.scoped_retriever()
        if not self._filtered:
            nodes = await scoped.aretrieve(query_bundle)
        else:
            try:
                nodes = await scoped.aretrieve(query_bundle)
            except Exception as exc:
                return self._refused(exc)
        return await self._admission.apostprocess_nodes(nodes, query_bundle)

    # The wrapped retriever's retrieve() already followed IndexNode links before admission; following
    # them again here (BaseRetriever.retrieve does, after _retrieve) would append the linked object's
    # nodes unadmitted.
    def _handle_recursive_retrieval(self, query_bundle: QueryBundle, nodes: list[NodeWithScore]) -> list[NodeWithScore]:
        return nodes

    async def _ahandle_recursive_retrieval(
        self, query_bundle: QueryBundle, nodes: list[NodeWithScore]
    ) -> list[NodeWithScore]:
        return nodes

    def __repr__(self) -> str:
        return f"GuardedRetriever({type(self._inner).__name__}, session={self._session.id!r})"
