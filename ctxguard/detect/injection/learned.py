"""A learned injection scorer: hashed character n-grams and a linear model, shipped in the package.

Why this shape: the rule heuristics know English clause structure and nothing else; an injection in
French, in a CSV cell or in a paraphrase has none of their words. Character n-grams carry across
languages, scripts, word forms and tokenisation, need no tokenizer or hub download, and a linear model
over them can be scored on *any* span of a text in O(1) after one O(n) pass: n-gram weights are looked
up once per position, summed into prefix arrays, and a span's score is a difference of two prefix sums.
So every sentence, and every pair of neighbouring sentences (an instruction split across two lines or
two cells), costs one subtraction, and the whole text is read once in numpy (several MB/s per core).

Features: the text is folded character by character (case, full-width forms, digits to ``0``, every
space to one space, invisible characters dropped), keeping a map back to the original offsets; each
n-gram of 2..5 folded characters is hashed into ``2**BITS`` buckets. A span's feature vector is its
bucket counts divided by the square root of its n-gram count, which is what ``score`` computes and what
``benchmarks/train_injection_model.py`` trains on, so training and scoring agree by construction.

The weights file is checked against the SHA-256 recorded in ``MODEL_SHA256`` before it is used: a
model that was swapped or truncated on disk is an error, not a quietly different detector.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import math
import threading
import unicodedata
from collections.abc import Sequence
from importlib import resources
from typing import Any

import numpy as np

from ...errors import ConfigurationError

BITS = 20
NGRAMS = (2, 3, 4, 5)
MODEL_FILE = "injection_ngram.npz"
# SHA-256 of MODEL_FILE as written by benchmarks/train_injection_model.py (which prints it).
MODEL_SHA256 = "47a1e44eeb407b1fadee443068b64503324c76116dcec759634b2faf27de4869"

_P = np.uint64(0x100000001B3)
_MIX = np.uint64(0xFF51AFD7ED558CCD)
_SHIFT = np.uint64(64 - BITS)
_SALT = {n: np.uint64((0x9E3779B97F4A7C15 * n) & 0xFFFFFFFFFFFFFFFF) for n in NGRAMS}

_INVISIBLE = (0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, *range(0x200B, 0x2010),
              *range(0x202A, 0x202F), *range(0x2060, 0x2070), 0x3164, 0xFEFF, 0xFFA0)
_DROP = -1


def _fold_table() -> np.ndarray:
    """Code point -> folded code point (or _DROP) for the Basic Multilingual Plane; built once."""
    table = np.arange(0x10000, dtype=np.int64)
    for cp in range(0x10000):
        ch = chr(cp)
        if 0xD800 <= cp < 0xE000:
            continue
        if ch.isspace():
            table[cp] = 0x20
            continue
        if ch.isdigit():
            table[cp] = 0x30
            continue
        folded = unicodedata.normalize("NFKC", ch).casefold()
        if len(folded) == 1:
            table[cp] = ord(folded)
    for cp in _INVISIBLE:
        table[cp] = _DROP
    return table


_table: np.ndarray | None = None
_table_lock = threading.Lock()


def _fold(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Folded code points and, for each, its offset in ``text``; runs of spaces kept as one."""
    global _table
    if _table is None:
        with _table_lock:
            if _table is None:
                _table = _fold_table()
    cps = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
    bmp = cps < 0x10000
    folded = np.where(bmp, _table[np.where(bmp, cps, 0)], cps)
    keep = folded != _DROP
    space = folded == 0x20
    prev_space = np.empty_like(space)
    if len(space):
        prev_space[0] = True  # a leading space carries nothing
        prev_space[1:] = space[:-1]
    keep &= ~(space & prev_space)
    offsets = np.nonzero(keep)[0]
    return folded[keep].astype(np.uint64), offsets


def ngram_buckets(folded: np.ndarray, n: int) -> np.ndarray:
    """Bucket of every n-gram of ``folded``, by start position (``len - n + 1`` of them)."""
    m = len(folded) - n + 1
    if m <= 0:
        return np.empty(0, dtype=np.int64)
    with np.errstate(over="ignore"):
        h = folded[:m].copy()
        for k in range(1, n):
            h = h * _P + folded[k:k + m]
        h ^= _SALT[n]
        h *= _MIX
    return (h >> _SHIFT).astype(np.int64)


def features(text: str) -> np.ndarray:
    """All n-gram buckets of a whole text (with repeats): the training side of ``score``."""
    folded, _ = _fold(text)
    return np.concatenate([ngram_buckets(folded, n) for n in NGRAMS])


class NgramModel:
    """Linear weights over hashed n-grams; ``spans_scores`` gives the probability for many spans."""

    def __init__(self, weights: np.ndarray, bias: float, meta: dict[str, Any] | None = None) -> None:
        if weights.shape != (2**BITS,):
            raise ConfigurationError(f"injection model has {weights.shape} weights, expected {(2**BITS,)}")
        self.weights = weights.astype(np.float32)
        self.bias = float(bias)
        self.meta = meta or {}

    def probability(self, text: str) -> float:
        return self.spans_scores(text, [(0, len(text))])[0]

    def spans_scores(self, text: str, spans: Sequence[tuple[int, int]]) -> list[float]:
        """The model's probability for each ``(start, end)`` span of ``text`` (original offsets)."""
        if not spans:
            return []
        folded, offsets = _fold(text)
        prefix = {}
        for n in NGRAMS:
            w = self.weights[ngram_buckets(folded, n)].astype(np.float64)
            prefix[n] = np.concatenate(([0.0], np.cumsum(w)))
        starts = np.searchsorted(offsets, np.array([s for s, _ in spans]), side="left")
        ends = np.searchsorted(offsets, np.array([e for _, e in spans]), side="left")
        out: list[float] = []
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            total, count = 0.0, 0
            for n in NGRAMS:
                last = b - n + 1  # n-grams starting in [a, last) lie inside the span
                if last > a:
                    p = prefix[n]
                    total += p[last] - p[a]
                    count += last - a
            z = self.bias + (total / math.sqrt(count) if count else 0.0)
            out.append(1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z)))))
        return out


# A text shorter than this is also scored whole: a short tool output is one message.
WHOLE_TEXT_CHARS = 600


def candidate_spans(text: str, units: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int]]:
    """The spans a text is scored on, in this order: each sentence-like unit (``units``, else the
    detector's own), each pair of neighbouring units (an instruction split over two lines, cells or
    sentences), and the whole text when it is short and not already one unit."""
    if units is None:
        from .imperative import unit_spans

        units = unit_spans(text)
    spans = list(units)
    spans += [(a[0], b[1]) for a, b in itertools.pairwise(units)]
    if len(text) <= WHOLE_TEXT_CHARS and text.strip() and (0, len(text)) not in spans:
        spans.append((0, len(text)))
    return spans


def text_score(model: NgramModel, text: str) -> float:
    """The highest span probability in ``text``: how a whole text is judged."""
    return max(model.spans_scores(text, candidate_spans(text)), default=0.0)


_model: NgramModel | None = None
_model_lock = threading.Lock()


def load_model(data: bytes | None = None) -> NgramModel:
    """The packaged model, after checking its SHA-256 (``data`` overrides the file, for tests)."""
    global _model
    if data is None and _model is not None:
        return _model
    with _model_lock:
        if data is None and _model is not None:
            return _model
        raw = data if data is not None else resources.files(__package__).joinpath(MODEL_FILE).read_bytes()
        digest = hashlib.sha256(raw).hexdigest()
        if digest != MODEL_SHA256:
            raise ConfigurationError(
                f"injection model {MODEL_FILE} has SHA-256 {digest[:12]}..., expected {MODEL_SHA256[:12]}...: "
                "the file was changed or truncated; reinstall ctxguard")
        with np.load(io.BytesIO(raw), allow_pickle=False) as z:
            model = NgramModel(z["weights"], float(z["bias"][0]), {"threshold": float(z["threshold"][0])})
        if data is None:
            _model = model
        return model
