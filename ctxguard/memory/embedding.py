"""A deterministic embedding that needs no model download: feature hashing of words and word pairs.

It is not a semantic model: it ranks by shared words, which is what tests, examples and offline
deployments without a model need (LlamaIndex's ``MockEmbedding`` gives every text the same vector
and cannot rank at all). Any real embedding plugs in instead (see ``ctxguard.memory.as_embed_fn``).
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .._patterns import compile_linear

_WORD = compile_linear(r"\w+")


class HashingEmbedding:
    """Text -> unit vector of ``dim`` floats (float32): signed feature hashing of words and bigrams."""

    def __init__(self, dim: int = 384, *, bigrams: bool = True) -> None:
        if not isinstance(dim, int) or isinstance(dim, bool) or dim < 8:
            raise ValueError(f"dim must be an integer of at least 8, not {dim!r}")
        self.dim = dim
        self.bigrams = bigrams

    def _bucket(self, feature: str) -> tuple[int, float]:
        h = hashlib.blake2b(feature.encode("utf-8", "surrogatepass"), digest_size=8).digest()
        n = int.from_bytes(h, "little")
        return n % self.dim, (1.0 if (n >> 63) & 1 else -1.0)

    def embed(self, text: str) -> npt.NDArray[np.float32]:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, not {type(text).__name__}")
        words = [m.group(0) for m in _WORD.finditer(unicodedata.normalize("NFKC", text).casefold())]
        vec = np.zeros(self.dim, dtype=np.float32)
        features = words + ([f"{a} {b}" for a, b in itertools.pairwise(words)] if self.bigrams else [])
        for f in features:
            i, sign = self._bucket(f)
            vec[i] += sign
        norm = float(np.linalg.norm(vec))
        if norm > 0:
            vec /= norm
        return vec

    def embed_many(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self.embed(text)
        return out

    # The LangChain ``Embeddings`` shape, so this plugs in wherever theirs does (and the other way round).
    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        return self.embed_many(texts)

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed(text)

    def __call__(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed(text)

    def __repr__(self) -> str:
        extra = "" if self.bigrams else ", bigrams=False"
        return f"HashingEmbedding(dim={self.dim}{extra})"


class Embedder:
    """One shape for every embedding the store accepts: documents in batches, queries one by one.

    Built by ``as_embed_fn``. Every output is checked here, once: a float32 array of the declared
    width with finite values. A model that silently changes width (a swapped checkpoint, a provider
    that truncates) would otherwise put vectors of two spaces in one index.
    """

    def __init__(
        self,
        documents: Callable[[list[str]], Any],
        query: Callable[[str], Any],
        *,
        name: str,
        dim: int | None = None,
    ) -> None:
        self._documents = documents
        self._query = query
        self.name = name
        self.dim = dim

    def embed_documents(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        texts = list(texts)
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"texts must be str, not {type(t).__name__}")
        if not texts:
            return np.zeros((0, self.dim or 0), dtype=np.float32)
        return self._check(self._documents(texts), rows=len(texts))

    def embed_query(self, text: str) -> npt.NDArray[np.float32]:
        if not isinstance(text, str):
            raise TypeError(f"query must be a str, not {type(text).__name__}")
        row: npt.NDArray[np.float32] = self._check(self._query(text), rows=None)[0]
        return row

    def __call__(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed_query(text)

    def _check(self, raw: Any, *, rows: int | None) -> npt.NDArray[np.float32]:
        try:
            arr = np.asarray(raw, dtype=np.float32)
        except (TypeError, ValueError):
            raise ValueError(f"{self.name} returned something that is not a vector of numbers") from None
        if rows is None:
            arr = arr.reshape(1, -1) if arr.ndim == 1 else arr
            rows = 1
        if arr.ndim != 2 or arr.shape[0] != rows or arr.shape[1] == 0:
            raise ValueError(f"{self.name} returned shape {arr.shape}, expected ({rows}, dim)")
        if self.dim is None:
            self.dim = int(arr.shape[1])
        elif arr.shape[1] != self.dim:
            raise ValueError(f"{self.name} returned {arr.shape[1]} dimensions, expected {self.dim}")
        if not np.isfinite(arr).all():
            raise ValueError(f"{self.name} returned a vector with NaN or infinite values")
        out: npt.NDArray[np.float32] = np.ascontiguousarray(arr)
        return out

    def __repr__(self) -> str:
        return f"Embedder({self.name}, dim={self.dim})"


def as_embed_fn(obj: Any) -> Embedder:
    """Wrap any embedding, found by duck typing so the core imports no framework.

    In order: an ``Embedder`` (returned as is); LangChain ``Embeddings`` (``embed_documents`` /
    ``embed_query``, which ``HashingEmbedding`` also has); LlamaIndex ``BaseEmbedding``
    (``get_text_embedding`` / ``get_query_embedding``, batched through ``get_text_embedding_batch``
    when present); any callable ``str -> vector``. The width comes from a ``dim`` attribute when the
    object has one, else from its first output.
    """
    if isinstance(obj, Embedder):
        return obj
    name = type(obj).__name__
    dim = getattr(obj, "dim", None)
    dim = dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None
    if callable(getattr(obj, "embed_documents", None)) and callable(getattr(obj, "embed_query", None)):
        return Embedder(obj.embed_documents, obj.embed_query, name=name, dim=dim)
    if callable(getattr(obj, "get_text_embedding", None)) and callable(getattr(obj, "get_query_embedding", None)):
        batch = getattr(obj, "get_text_embedding_batch", None)

        def documents(texts: list[str]) -> Any:
            if callable(batch):
                return batch(texts)
            return [obj.get_text_embedding(t) for t in texts]

        return Embedder(documents, obj.get_query_embedding, name=name, dim=dim)
    if callable(obj):
        return Embedder(lambda texts: [obj(t) for t in texts], obj, name=getattr(obj, "__name__", name), dim=dim)
    raise TypeError(
        f"{name} is not an embedding: pass a callable str -> vector, a LangChain Embeddings "
        "(embed_documents/embed_query) or a LlamaIndex BaseEmbedding (get_text_embedding/get_query_embedding)"
    )
