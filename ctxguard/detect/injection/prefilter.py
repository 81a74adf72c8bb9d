"""Which injection signatures can match a text, in one Hyperscan pass, before RE2 looks for them.

Each of the ~40 signatures is its own RE2 pattern, and RE2 through its Python binding costs a few
microseconds per call whatever the text holds: on every admitted tool output that was most of the
rule detector's time, although benign text matches none of them. One Hyperscan scan says which
signatures can match at all; RE2 then runs only those, so the findings are RE2's exactly.

For that the scan must never miss what RE2 would find, so each expression is widened before it is
compiled: bounded repeats lose their upper bound (``[^.\\n]{0,40}?`` becomes ``[^.\\n]*``), ``\\pL``
becomes "any non-ASCII character or ASCII letter", and Hyperscan's PREFILTER mode may widen further.
Both keep a superset and make the database compile in a fraction of a second instead of ten. Texts
where the two engines could disagree go to RE2 in full: text that is not valid UTF-8 (lone
surrogates), and text holding one of the few non-ASCII characters that Unicode case folding maps to
an ASCII letter (the Kelvin sign is a ``k`` to RE2's case-insensitive match). A signature whose pattern
is not an RE2 object (a caller's own), or that Hyperscan refuses, is run on every text.
``tests/test_injection_prefilter.py`` checks the superset on the corpora and on generated text.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

from ..hyperscan_set import HyperscanSet, load_hyperscan

# {m,n} (not an escaped brace) -> {m,}: a superset, and far cheaper for Hyperscan to compile.
_BOUNDED = re.compile(r"(?<!\\)\{(\d+),\d+\}\??")
_NON_ASCII_OR_LETTER = r"[^\x00-\x40\x5b-\x60\x7b-\x7f]"
# Non-ASCII characters whose case folding reaches ASCII letters (RE2 folds them; Hyperscan may not).
_FOLDS_TO_ASCII = frozenset("\u017f\u0130\u0131\u212a\u212b")

_cache: dict[tuple[tuple[str, bool] | None, ...], SignaturePrefilter | None] = {}
_cache_lock = threading.Lock()


def widen(pattern: str) -> str:
    """A pattern that matches wherever ``pattern`` does (and maybe more), cheap for Hyperscan."""
    def unbounded(m: re.Match[str]) -> str:
        low = m.group(1)
        return "*" if low == "0" else "+" if low == "1" else "{" + low + ",}"

    out = _BOUNDED.sub(unbounded, pattern)
    return out.replace(r"[^\pL]", "[^A-Za-z]").replace(r"\pL", _NON_ASCII_OR_LETTER)


def _source(pattern: Any) -> tuple[str, bool] | None:
    """(pattern text, case sensitive) of an RE2 pattern; None for anything else."""
    text = getattr(pattern, "pattern", None)
    options = getattr(pattern, "options", None)
    sensitive = getattr(options, "case_sensitive", None)
    if not isinstance(text, str) or not isinstance(sensitive, bool):
        return None
    return text, sensitive


class SignaturePrefilter:
    """The compiled scan over a tuple of signature patterns; ``candidates`` lists the indices to run."""

    def __init__(self, patterns: HyperscanSet, always: frozenset[int], count: int) -> None:
        self._patterns = patterns
        self._always = always
        self._count = count

    @classmethod
    def for_patterns(cls, patterns: Sequence[Any]) -> SignaturePrefilter | None:
        """The prefilter for these compiled patterns, built once per process; None without Hyperscan."""
        key = tuple(_source(p) for p in patterns)
        with _cache_lock:
            if key not in _cache:
                _cache[key] = cls._build(key)
            return _cache[key]

    @classmethod
    def _build(cls, sources: tuple[tuple[str, bool] | None, ...]) -> SignaturePrefilter | None:
        hs = load_hyperscan()
        if hs is None:
            return None
        base = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_UTF8 | hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
        exprs: list[bytes] = []
        ids: list[int] = []
        flags: list[tuple[int]] = []
        always: set[int] = set()
        for i, source in enumerate(sources):
            if source is None:
                always.add(i)
                continue
            text, sensitive = source
            exprs.append(widen(text).encode("utf-8"))
            ids.append(i)
            flags.append((base | (0 if sensitive else hs.HS_FLAG_CASELESS),))
        patterns = HyperscanSet.build(hs, exprs, ids, flags) if exprs else None
        if patterns is None:
            return None
        return cls(patterns, frozenset(always | patterns.left_out), len(sources))

    def candidates(self, text: str) -> Sequence[int]:
        """Indices of the signatures that may match ``text``, in order (all of them when in doubt)."""
        if not text.isascii() and not _FOLDS_TO_ASCII.isdisjoint(text):
            return range(self._count)
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates: not UTF-8, which Hyperscan's UTF-8 mode needs
            return range(self._count)
        found = set(self._always)

        def on_match(rule: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
            found.add(rule)

        self._patterns.scan(data, on_match)
        return sorted(found)
