"""Normalisation before detection, keeping a map back to the original offsets.

Attackers hide secrets and instructions from pattern matchers with full-width letters, ligatures,
look-alike letters of other scripts, zero-width joiners, bidi overrides and Unicode tag characters.
Detectors run on a form where each character has been

* folded to the ASCII character it imitates when it is a known homoglyph (``confusables.py``),
* otherwise put in NFKC,
* removed when it is invisible (format characters, variation selectors, fillers, C1 controls),
* or, for tag characters (U+E0020..U+E007E, "ASCII smuggling"), replaced by the ASCII character it
  encodes, on a line of its own, so an instruction hidden in them is read like any other.

Each normalised character remembers the original index it came from, so a finding is reported (and
redacted) at the right place in the text the caller actually holds. Normalisation is per character:
whole-string NFKC differs only for composing sequences, which matter for display, not for the
ASCII-shaped tokens detectors look for, and per-character is what makes offsets exact.

This runs on every message, so the common cases avoid Python loops: ASCII text returns at once; text
whose changes are all one character for one character (accents, Cyrillic, full-width) is one
``str.translate`` with the identity offset map; only runs of characters that vanish or expand are
walked in Python. The tables are built on the first non-ASCII text, from this Python's Unicode data.
"""

from __future__ import annotations

import functools
import unicodedata
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .._patterns import compile_linear
from .confusables import CONFUSABLES

# Tag characters: U+E0020..U+E007E spell ASCII 0x20..0x7E; U+E0001 (language tag) and U+E007F (cancel
# tag) and the unassigned rest of the block are dropped.
_TAG_FIRST, _TAG_LAST = 0xE0000, 0xE007F
_TAG_ASCII_FIRST, _TAG_ASCII_LAST = 0xE0020, 0xE007E
# An emoji subdivision flag is U+1F3F4 followed by tag letters/digits and a cancel tag: not smuggling.
_BLACK_FLAG = "\U0001f3f4"
_CANCEL_TAG = "\U000e007f"
_FLAG_TAGS = frozenset(chr(0xE0000 + c) for c in b"abcdefghijklmnopqrstuvwxyz0123456789")

# Invisible characters that are not in category Cf: combining grapheme joiner, Hangul fillers, Khmer
# inherent vowels, Mongolian free variation selectors, variation selectors (also used to smuggle bytes,
# see decode.py), musical null notehead; C1 controls (NEL becomes a line break instead).
_INVISIBLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x0080, 0x0084), (0x0086, 0x009F), (0x034F, 0x034F), (0x115F, 0x1160), (0x17B4, 0x17B5),
    (0x180B, 0x180D), (0x180F, 0x180F), (0x3164, 0x3164), (0xFE00, 0xFE0F), (0xFFA0, 0xFFA0),
    (0x1D159, 0x1D159), (0xE0100, 0xE01EF),
)
# Separators that end a line for a reader: patterns anchored on line starts must see them as such.
_LINE_BREAKS = {0x0085: "\n", 0x2028: "\n", 0x2029: "\n"}
# Braille pattern blank renders as a space and is used as one to split keywords.
_SPACES = {0x2800: " "}

# Code points scanned when the tables are built. Planes 4-13 are unassigned and 15-16 are private use:
# none of them has a decomposition or a format character (Unicode 16).
_SCAN_RANGES: tuple[tuple[int, int], ...] = ((0x80, 0xD800), (0xE000, 0x40000), (0xE0000, 0xE1000))


@dataclass(frozen=True, slots=True)
class _OffsetMap:
    """Piecewise map from normalised index to original index, one entry per run instead of per character.

    Segment k starts at normalised index ``starts[k]`` and original index ``origins[k]``; a linear
    segment advances one original character per normalised character, a constant one (an expansion
    such as a ligature, or an inserted separator) maps every character to the same original index.
    """

    starts: tuple[int, ...]
    origins: tuple[int, ...]
    linear: tuple[bool, ...]
    length: int
    original_length: int

    def at(self, i: int) -> int:
        if i >= self.length:
            return self.original_length
        k = bisect_right(self.starts, i) - 1
        return self.origins[k] + (i - self.starts[k] if self.linear[k] else 0)


@dataclass(frozen=True, slots=True)
class Normalized:
    """The normalised text, how many invisible characters it hid, and the way back to original offsets.

    ``hidden_chars`` counts invisible characters removed or revealed; ``smuggled_chars`` counts tag
    characters revealed as ASCII (a strong sign of an attempt to hide text from a human reader).
    """

    text: str
    hidden_chars: int = 0
    smuggled_chars: int = 0
    offset_map: _OffsetMap | None = field(default=None, repr=False)

    @property
    def offsets(self) -> tuple[int, ...] | None:
        """offsets[i] = original index of normalised character i; offsets[len(text)] = len(original).

        None when every character maps to the one at the same index (nothing removed or inserted).
        Materialised on demand: ``to_original`` does not need it.
        """
        m = self.offset_map
        if m is None:
            return None
        return tuple(m.at(i) for i in range(m.length + 1))

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        """The original span of normalised [start, end): from the first character's source to just
        past the last character's source, so removed characters inside the span are included."""
        m = self.offset_map
        if m is None:
            return start, end
        s = m.at(start)
        if end <= start:
            return s, s
        return s, m.at(end - 1) + 1


@dataclass(frozen=True, slots=True)
class _Tables:
    bmp: list[int]  # str.translate table for one-for-one changes in the BMP (identity elsewhere)
    marked: list[int]  # the same, with every BMP character of ``special`` turned into _MARK
    special: dict[int, str]  # everything else that changes: removals, expansions, astral one-for-one
    astral_runs: Any  # RE2: runs of astral characters in ``special`` and of tag characters
    changed: Any  # RE2: any character that normalisation changes


# Stands in, after the marked translate, for a BMP character that needs the slow path. A U+FFFF that
# was in the text already is harmless: the slow path maps it to itself.
_MARK = 0xFFFF


def _invisible(cp: int) -> bool:
    return any(lo <= cp <= hi for lo, hi in _INVISIBLE_RANGES)


def _after_nfkc(ch: str) -> str:
    cp = ord(ch)
    if cp in CONFUSABLES:
        return CONFUSABLES[cp]
    if _invisible(cp) or unicodedata.category(ch) == "Cf":
        return ""
    return ch


def _target(ch: str) -> str:
    """What one character becomes: folding first (it wins over NFKC), then NFKC, then removal."""
    cp = ord(ch)
    if cp in CONFUSABLES:
        return CONFUSABLES[cp]
    if cp in _LINE_BREAKS:
        return _LINE_BREAKS[cp]
    if cp in _SPACES:
        return _SPACES[cp]
    if _invisible(cp) or unicodedata.category(ch) == "Cf":
        return ""
    n = unicodedata.normalize("NFKC", ch)
    if n == ch:
        return ch
    return "".join(_after_nfkc(c) for c in n)


def _code_points(lo: int, hi: int) -> str:
    return array("I", range(lo, hi)).tobytes().decode("utf-32-le")


def _changing_code_points() -> set[int]:
    """Code points that NFKC changes or that are format characters, found by bisecting blocks: a block
    that is NFKC-normalised as a whole and holds no format character is skipped in one C call."""
    cf = compile_linear(r"\p{Cf}")
    found: set[int] = set()

    def scan(chars: str, base: int) -> None:
        if unicodedata.is_normalized("NFKC", chars) and cf.search(chars) is None:
            return
        if len(chars) <= 64:
            for i, ch in enumerate(chars):
                if unicodedata.normalize("NFKC", ch) != ch or unicodedata.category(ch) == "Cf":
                    found.add(base + i)
            return
        mid = len(chars) // 2
        scan(chars[:mid], base)
        scan(chars[mid:], base + mid)

    for lo, hi in _SCAN_RANGES:
        chars = _code_points(lo, hi)
        for off in range(0, len(chars), 4096):
            scan(chars[off:off + 4096], lo + off)
    return found


def _char_class(code_points: set[int]) -> str:
    ranges: list[list[int]] = []
    for cp in sorted(code_points):
        if ranges and ranges[-1][1] == cp - 1:
            ranges[-1][1] = cp
        else:
            ranges.append([cp, cp])
    return "".join(f"\\x{{{a:x}}}" if a == b else f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)


@functools.cache
def _tables() -> _Tables:
    candidates = _changing_code_points()
    candidates.update(CONFUSABLES, _LINE_BREAKS, _SPACES)
    for lo, hi in _INVISIBLE_RANGES:
        candidates.update(range(lo, hi + 1))
    bmp = list(range(0x10000))
    special: dict[int, str] = {cp: "" for cp in range(0xD800, 0xE000)}  # lone surrogates: see normalize()
    changed: set[int] = set()
    for cp in candidates:
        if _TAG_FIRST <= cp <= _TAG_LAST or 0xD800 <= cp < 0xE000:
            continue
        t = _target(chr(cp))
        if t == chr(cp):
            continue
        changed.add(cp)
        if len(t) == 1 and cp < 0x10000:
            bmp[cp] = ord(t)
        else:
            special[cp] = t
    marked = bmp.copy()
    for cp in special:
        if cp < 0x10000:
            marked[cp] = _MARK
    astral = {cp for cp in special if cp >= 0x10000} | set(range(_TAG_FIRST, _TAG_LAST + 1))
    return _Tables(
        bmp=bmp,
        marked=marked,
        special=special,
        astral_runs=compile_linear(f"[{_char_class(astral)}]+"),
        changed=compile_linear(f"[{_char_class(changed | astral)}]"),
    )


class _Builder:
    """Accumulates normalised text and its offset segments, merging contiguous linear runs."""

    __slots__ = ("hidden", "linear", "n", "origins", "parts", "smuggled", "starts")

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.starts: list[int] = []
        self.origins: list[int] = []
        self.linear: list[bool] = []
        self.n = 0
        self.hidden = 0
        self.smuggled = 0

    def copy(self, orig: int, s: str) -> None:
        """``s`` maps character for character onto the original from index ``orig``."""
        if not s:
            return
        if not (self.starts and self.linear[-1] and self.origins[-1] + (self.n - self.starts[-1]) == orig):
            self.starts.append(self.n)
            self.origins.append(orig)
            self.linear.append(True)
        self.parts.append(s)
        self.n += len(s)

    def const(self, orig: int, s: str) -> None:
        """Every character of ``s`` comes from the one original character at ``orig``."""
        if len(s) <= 1:
            self.copy(orig, s)
            return
        self.starts.append(self.n)
        self.origins.append(orig)
        self.linear.append(False)
        self.parts.append(s)
        self.n += len(s)

    def result(self, original: str) -> Normalized:
        text = "".join(self.parts)
        identity = (len(text) == len(original)
                    and (not self.starts or (len(self.starts) == 1 and self.origins[0] == 0 and self.linear[0])))
        m = None if identity else _OffsetMap(tuple(self.starts), tuple(self.origins), tuple(self.linear),
                                             len(text), len(original))
        return Normalized(text, self.hidden, self.smuggled, m)


def _tag_run(text: str, i: int, j: int, b: _Builder) -> None:
    """Tag characters text[i:j]: reveal the ASCII they spell on a line of its own, unless they are an
    emoji subdivision flag (U+1F3F4, tag letters, cancel tag), which is dropped like any invisible."""
    run = text[i:j]
    b.hidden += len(run)
    if (i > 0 and text[i - 1] == _BLACK_FLAG and 2 <= len(run) <= 8 and run[-1] == _CANCEL_TAG
            and all(c in _FLAG_TAGS for c in run[:-1])):
        return
    first = last = -1
    for k in range(i, j):
        cp = ord(text[k])
        if _TAG_ASCII_FIRST <= cp <= _TAG_ASCII_LAST:
            if first < 0:
                first = k
                b.const(k, "\n")
            b.copy(k, chr(cp - 0xE0000))
            b.smuggled += 1
            last = k
    if last >= 0:
        b.const(last, "\n")


def _walk(text: str, i: int, j: int, t: _Tables, b: _Builder) -> None:
    """Character by character over text[i:j] (runs of removals, expansions and tag characters)."""
    special, bmp = t.special, t.bmp
    while i < j:
        ch = text[i]
        cp = ord(ch)
        if _TAG_FIRST <= cp <= _TAG_LAST:
            k = i + 1
            while k < j and _TAG_FIRST <= ord(text[k]) <= _TAG_LAST:
                k += 1
            _tag_run(text, i, k, b)
            i = k
            continue
        rep = special.get(cp)
        if rep is None:
            rep = chr(bmp[cp]) if cp < 0x10000 else ch
        if not rep:
            b.hidden += 1
        else:
            b.const(i, rep)
        i += 1


def _slow_runs(text: str, folded: str, start: int, t: _Tables) -> Iterator[tuple[int, int]]:
    """Spans of text that need the character walk, in order: runs of marked BMP characters (found with
    str.find, which is far cheaper per hit than a regex match) merged with runs of astral ones (RE2)."""
    mark = chr(_MARK)
    n = len(folded)
    astral = ((m.start(), m.end()) for m in t.astral_runs.finditer(text, start))
    next_astral = next(astral, None)
    p = folded.find(mark, start)
    while True:
        if p >= 0 and (next_astral is None or p < next_astral[0]):
            e = p + 1
            while e < n and folded[e] == mark:
                e += 1
            yield p, e
            p = folded.find(mark, e)
        elif next_astral is not None:
            yield next_astral
            next_astral = next(astral, None)
        else:
            return


def normalize(text: str) -> Normalized:
    """Fold, NFKC, remove invisible characters and reveal tag characters, with a map back to ``text``."""
    if text.isascii():
        return Normalized(text)
    t = _tables()
    try:
        first = t.changed.search(text)
        if first is None:
            return Normalized(text)
        # One translate over the whole text keeps every index: one-for-one changes are made, and BMP
        # characters that vanish or expand become _MARK so the slow path can find them.
        folded = text.translate(t.marked)
        start = first.start()
        if chr(_MARK) not in folded and t.astral_runs.search(text, start) is None:
            # Every change is one character for one character: offsets are the identity.
            return Normalized(folded)
        b = _Builder()
        pos = 0
        for s, e in _slow_runs(text, folded, start, t):
            if s > pos:
                b.copy(pos, folded[pos:s])
            _walk(text, s, e, t, b)
            pos = e
        if pos < len(text):
            b.copy(pos, folded[pos:])
        return b.result(text)
    except UnicodeEncodeError:
        # Lone surrogates (from a JSON "\ud800" escape, say) cannot be encoded for RE2: walk it all.
        b = _Builder()
        _walk(text, 0, len(text), t, b)
        return b.result(text)


__all__ = ["Normalized", "normalize"]
