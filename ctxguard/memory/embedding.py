"""A deterministic embedding that needs no model download: feature hashing of words and word pairs.

It is not a semantic model: it ranks by shared words, which is what tests, examples and offline
deployments without a model need (LlamaIndex's ``MockEmbedding`` gives every text the same vector
and cannot rank at all). Any real embedding plugs in instead (see ``ctxguard.memory.as_embed_fn``).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Sequence

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
        features = words + ([f"{a} {b}" for a, b in zip(words, words[1:], strict=False)] if self.bigrams else [])
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

    def __call__(self, text: str) -> npt.NDArray[np.float32]:
        return self.embed(text)

    def __repr__(self) -> str:
        return f"HashingEmbedding(dim={self.dim})"
