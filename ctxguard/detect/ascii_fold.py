"""The ASCII image of a text: every non-ASCII character stands in for one of the same class for
``\\w``, ``\\d`` and ``\\s``, so RE2 (whose classes are ASCII) matches where Presidio's Unicode
matching would, and spans keep their offsets."""

from __future__ import annotations

import codecs
import importlib
import threading
from typing import Any

# Presidio matches with the ``regex`` module, whose \w, \d, \s and \b are Unicode-aware; RE2's are
# ASCII-only. Replacing each non-ASCII character by an ASCII stand-in of the same class makes the two
# agree on everything Presidio's patterns ask of such a character, with offsets unchanged (one code
# point for one byte). Stand-ins: '_' a word character that no letter or digit range contains,
# '\x0c' a space that no pattern names literally, '\x7f' anything else. Two kinds cannot be stood in
# for exactly: decimal digits outside ASCII (\d takes them, [0-9] does not) and letters that
# case-fold to an ASCII letter (K KELVIN SIGN matches (?i)k). They map to '0' and to that letter,
# which can only add candidates, and a text holding one has every candidate confirmed by Presidio's
# own pattern.
_WORD, _SPACE, _OTHER = "_", "\x0c", "\x7f"


_fold_lock = threading.RLock()


_fold_cache: dict[str, tuple[str, bool]] = {}


_local = threading.local()


def _regex() -> Any:
    """The ``regex`` module Presidio matches with (a dependency of presidio-analyzer; untyped)."""
    return importlib.import_module("regex")


def _classify(ch: str) -> tuple[str, bool]:
    regex = _regex()

    if regex.match(r"\d", ch):
        return "0", True
    for letter in sorted({c.lower() for c in ch.lower() + ch.upper() + ch.casefold() if c.isascii() and c.isalpha()}):
        if regex.fullmatch(letter, ch, flags=regex.IGNORECASE):
            return letter, True
    if regex.match(r"\w", ch):
        return _WORD, False
    if regex.match(r"\s", ch):
        return _SPACE, False
    return _OTHER, False


def _fold_char(ch: str) -> tuple[str, bool]:
    hit = _fold_cache.get(ch)
    if hit is None:
        hit = _classify(ch)
        with _fold_lock:
            if len(_fold_cache) < 200_000:  # a hostile text cannot grow the cache without bound
                _fold_cache[ch] = hit
    return hit


def _fold_errors(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start:exc.end]:
        stand_in, lossy = _fold_char(ch)
        if lossy:
            _local.lossy = True
        out.append(stand_in)
    return "".join(out), exc.end


codecs.register_error("ctxguard.fold", _fold_errors)


def fold(text: str) -> tuple[bytes, bool]:
    """ASCII image of ``text`` (same length) and whether it holds a stand-in RE2 could over-match."""
    if text.isascii():
        return text.encode("ascii"), False
    if len(text) > _FOLD_VECTOR_MIN:
        return _fold_vector(text)
    _local.lossy = False
    data = text.encode("ascii", errors="ctxguard.fold")
    return data, bool(_local.lossy)


_FOLD_VECTOR_MIN = 1 << 14


_luts: list[Any] = []  # [stand-in byte per code point, lossy flag per code point, known per code point]


def _fold_vector(text: str) -> tuple[bytes, bool]:
    """``fold`` for long texts, with numpy: a lookup table indexed by code point, filled on first sight.

    The codec error handler costs a Python call per run of non-ASCII characters, which a text of
    alternating scripts (or a hostile one) turns into a call per character.
    """
    import numpy as np

    with _fold_lock:
        if not _luts:
            ascii_ = np.arange(128, dtype=np.uint8)
            stand = np.zeros(0x110000, dtype=np.uint8)
            stand[:128] = ascii_
            known = np.zeros(0x110000, dtype=bool)
            known[:128] = True
            _luts.extend([stand, np.zeros(0x110000, dtype=bool), known])
    stand, lossy, known = _luts
    cps = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
    new = np.unique(cps[~known[cps]])
    if new.size:
        with _fold_lock:
            for cp in new.tolist():
                stand_in, is_lossy = _fold_char(chr(cp))
                stand[cp], lossy[cp], known[cp] = ord(stand_in), is_lossy, True
    return stand[cps].tobytes(), bool(lossy[cps].any())
