"""ctxguard.memory: agent memory that keeps every entry's label and searches within the caller's scope.

    TrustScopedStore    FAISS vector memory; writes and reads go through the firewall (store.py)
    MemoryHit           one search result: text, label, score, id, metadata
    MemoryEntry         one stored entry (``TrustScopedStore.get``)
    Recall              what ``recall`` admitted and what it dropped, with the decisions
    HashingEmbedding    a model-free embedding for tests, examples and offline use (embedding.py)
    as_embed_fn         any embedding (callable, LangChain, LlamaIndex) in the one shape the store uses
    HnswOptions         settings of the approximate index (``TrustScopedStore(..., index="hnsw")``)

Needs the optional extra ``ctxguard[memory]`` (faiss-cpu); importing this package works without it,
and building a store says how to install it.
"""

from __future__ import annotations

from .embedding import Embedder, HashingEmbedding, as_embed_fn
from .store import MemoryEntry, MemoryHit, Recall, RecalledMemory, TrustScopedStore
from .vector_index import HnswOptions

__all__ = [
    "Embedder",
    "HashingEmbedding",
    "HnswOptions",
    "MemoryEntry",
    "MemoryHit",
    "Recall",
    "RecalledMemory",
    "TrustScopedStore",
    "as_embed_fn",
]
