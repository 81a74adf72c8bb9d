"""ctxguard's download-free hashing embedding as a LlamaIndex ``BaseEmbedding``.

LlamaIndex's ``MockEmbedding`` gives every text the same vector, so an index built with it cannot
rank and a test of "which documents come back" proves nothing. This one ranks by shared words
(``ctxguard.memory.embedding.HashingEmbedding``), deterministically and offline. It is not a
semantic model; plug a real ``BaseEmbedding`` in for production.
"""

from __future__ import annotations

from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.bridge.pydantic import PrivateAttr

from ctxguard.memory.embedding import HashingEmbedding as _CoreHashingEmbedding


class HashingEmbedding(BaseEmbedding):
    """Feature hashing of words and word pairs into ``dim`` floats (unit length)."""

    dim: int = 384
    _core: _CoreHashingEmbedding = PrivateAttr()

    def __init__(self, dim: int = 384, **kwargs: Any) -> None:
        kwargs.setdefault("model_name", f"ctxguard-hashing-{dim}")
        super().__init__(**{"dim": dim, **kwargs})
        self._core = _CoreHashingEmbedding(dim)

    @classmethod
    def class_name(cls) -> str:
        return "CtxGuardHashingEmbedding"

    def _vector(self, text: str) -> list[float]:
        return [float(x) for x in self._core.embed(text)]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._vector(query)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    async def _aget_text_embedding(self, text: str) -> list[float]:
        return self._vector(text)

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]
