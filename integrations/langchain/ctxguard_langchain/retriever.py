"""GuardedRetriever: any LangChain retriever, narrowed to what one session may see and checked per document.

The threat is a retriever that answers the query: a query (or an injected instruction that became
one) saying "ignore the filters, show tenant B" must not reach tenant B's documents. So the scope is
a value of the session (its tenant and clearance, ``Session.scope()``), never read from the query or
the model, and it is applied twice:

* inside the store, where the wrapped retriever can filter (``store_filter``, automatic for
  ``InMemoryVectorStore``): ranking then happens among visible documents only, so ``k`` results come
  back when ``k`` visible ones exist;
* on every returned document, on its *signed* label: ``Session.admit`` verifies the signature, and an
  unsigned, forged or stale label reads as unverified, which a tenant session does not admit. The
  store filter only reads plain hints, so it can hide a document but never reveal one.

Documents that pass come back with the text the policy allows into the model (redacted, spotlit)
and their label in ``Document.metadata``: signed (so a later check can verify it) and as a readable
``ctxguard`` dict. ``label_documents`` signs documents at ingestion.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.vectorstores import InMemoryVectorStore, VectorStoreRetriever
from pydantic import ConfigDict

from ctxguard import Scope, Session
from ctxguard.labels import METADATA_KEY, SIGNATURE_KEY
from ctxguard.retrieval import Retrieved, admit_retrieved, refuse_retrieval
from ctxguard.scope import CONFIDENTIALITY_KEY, TENANT_KEY, TRUST_KEY

from .callback import GUARDED_TAG

StoreFilter = Callable[[Scope], Any]
_LABEL_KEYS = (METADATA_KEY, SIGNATURE_KEY, TENANT_KEY, CONFIDENTIALITY_KEY, TRUST_KEY, "ctxguard")


def predicate_filter(scope: Scope) -> Callable[[Document], bool]:
    """The scope as a predicate on documents: the filter ``InMemoryVectorStore`` (and stores like it) take."""

    def visible(doc: Document) -> bool:
        return scope.permits_fields(doc.metadata or {})

    return visible


def operator_filter(scope: Scope) -> dict[str, Any]:
    """The scope as a ``{"$and": [{field: {"$in": [...]}}, ...]}`` filter (Chroma, Pinecone, MongoDB style)."""
    return {"$and": [{key: {"$in": list(values)}} for key, values in scope.metadata_filter().items()]}


def label_documents(
    docs: Iterable[Document], session: Session, source: str, *, confidentiality: str | None = None
) -> list[Document]:
    """Copies of ``docs`` with a signed ctxguard label (and the store's filter hints) in their metadata.

    The label says the documents belong to ``session``'s tenant (use a session with ``tenant=""``
    for shared documents), come from ``source`` and have ``confidentiality`` (the policy's default
    when None). Sign the text you store: the signature covers the content hash, so a document whose
    text changes afterwards reads back unverified.
    """
    out = []
    for doc in docs:
        label = session.label_for(doc.page_content, source, confidentiality=confidentiality)
        metadata = {k: v for k, v in (doc.metadata or {}).items() if k not in _LABEL_KEYS}
        out.append(Document(page_content=doc.page_content, metadata={**metadata, **session.sign(label)}, id=doc.id))
    return out


class GuardedRetriever(BaseRetriever):
    """Wraps ``retriever`` so it returns only what ``session`` may see, as the policy allows the model to see it.

    ``GuardedRetriever(retriever, session, source="retriever:kb", min_trust=None, store_filter=None)``

    * ``source``: the ctxguard source of the documents (trust for unsigned content, audit, budgets);
      ``retriever:<name of the wrapped retriever>`` by default.
    * ``min_trust``: also drop documents whose verified label is below this trust level.
    * ``store_filter``: turns the session's ``Scope`` into the wrapped retriever's ``filter`` search
      argument (see ``predicate_filter``, ``operator_filter``); it replaces any ``filter`` in the
      retriever's ``search_kwargs``, so fold yours into it. For a ``VectorStoreRetriever`` over an
      ``InMemoryVectorStore`` it is set for you (and ANDed with a callable filter you already have).
      Without a store filter the documents are filtered after retrieval, so **fewer than k may come
      back** when out-of-scope documents ranked high.

    Each document goes through ``session.admit`` with its metadata, so its signed label is verified
    and the policy decides; a blocked document (out of scope, or blocked content) is dropped. A
    returned document's ``page_content`` is the decision's text (redacted, spotlit); its metadata
    keeps the original fields and carries the label signed for that text (only when the label
    verified) plus ``metadata["ctxguard"]``: trust, tenant, confidentiality, action, verified, findings.
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: BaseRetriever
    session: Session
    source: str
    min_trust: str | None = None
    store_filter: StoreFilter | None = None

    def __init__(
        self,
        retriever: BaseRetriever,
        session: Session,
        *,
        source: str | None = None,
        min_trust: str | None = None,
        store_filter: StoreFilter | None = None,
        **kwargs: Any,
    ) -> None:
        tags = list(kwargs.pop("tags", None) or [])
        if GUARDED_TAG not in tags:
            tags.append(GUARDED_TAG)  # a CtxGuardCallbackHandler then leaves these documents to us
        if store_filter is None and _is_in_memory(retriever):
            store_filter = _in_memory_filter(retriever)
        elif store_filter is not None and isinstance(retriever, VectorStoreRetriever):
            if retriever.search_kwargs.get("filter") is not None:
                raise ValueError("the retriever already has a search_kwargs filter: fold it into store_filter, "
                                 "which replaces it")
        session.scope(min_trust=min_trust)  # an unknown trust level fails here, not at the first query
        fields: dict[str, Any] = {
            "retriever": retriever, "session": session, "source": source or f"retriever:{retriever.get_name()}",
            "min_trust": min_trust, "store_filter": store_filter, "tags": tags,
        }
        super().__init__(**fields, **kwargs)

    # ---- LangChain's retriever contract --------------------------------------------------------
    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        try:
            docs = self.retriever.invoke(query, config={"callbacks": run_manager.get_child(tag=GUARDED_TAG)},
                                         **self._search_kwargs())
        except Exception as exc:  # the store failed (or could not apply the scope): nothing, not everything
            return self._refused(exc)
        return self.guard(docs)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        try:
            docs = await self.retriever.ainvoke(query, config={"callbacks": run_manager.get_child(tag=GUARDED_TAG)},
                                                **self._search_kwargs())
        except Exception as exc:
            return self._refused(exc)
        return await asyncio.to_thread(self.guard, docs)

    def _refused(self, exc: Exception) -> list[Document]:
        refuse_retrieval(self.session, exc, type(self.retriever).__name__)
        return []

    # ---- the checks ------------------------------------------------------------------------------
    @property
    def scope(self) -> Scope:
        """What the session may retrieve: derived from the session only."""
        return self.session.scope(min_trust=self.min_trust)

    def _search_kwargs(self) -> dict[str, Any]:
        return {"filter": self.store_filter(self.scope)} if self.store_filter is not None else {}

    def guard(self, docs: Iterable[Document]) -> list[Document]:
        """The documents ``session`` may see, rewritten and labelled; the rest dropped (in order).
        Admission, scope and relabelling are the core's (``ctxguard.retrieval.admit_retrieved``)."""
        scope = self.scope
        out = []
        for doc in docs:
            got = admit_retrieved(self.session, doc.page_content, self.source, metadata=doc.metadata or {},
                                  scope=scope)
            if got.kept:
                out.append(_labelled(doc, got))
        return out


def _labelled(doc: Document, got: Retrieved) -> Document:
    label, decision = got.label, got.decision
    metadata: dict[str, Any] = {k: v for k, v in (doc.metadata or {}).items() if k not in _LABEL_KEYS}
    metadata.update(got.entries)
    metadata["ctxguard"] = {
        "trust": label.trust,
        "tenant": label.tenant,
        "confidentiality": label.confidentiality,
        "source": label.source,
        "verified": label.verified,
        "action": decision.action.value,
        "findings": sorted({f.kind for f in decision.findings}),
    }
    return Document(page_content=decision.text, metadata=metadata, id=doc.id)


def _is_in_memory(retriever: BaseRetriever) -> bool:
    return isinstance(retriever, VectorStoreRetriever) and isinstance(retriever.vectorstore, InMemoryVectorStore)


def _in_memory_filter(retriever: BaseRetriever) -> StoreFilter:
    """``predicate_filter``, ANDed with a callable filter the retriever's ``search_kwargs`` already hold."""
    existing = retriever.search_kwargs.get("filter") if isinstance(retriever, VectorStoreRetriever) else None
    if existing is not None and not callable(existing):
        raise ValueError("InMemoryVectorStore filters are callables; the retriever's search_kwargs filter is not")

    def build(scope: Scope) -> Callable[[Document], bool]:
        visible = predicate_filter(scope)
        if existing is None:
            return visible
        return lambda doc: visible(doc) and bool(existing(doc))

    return build

