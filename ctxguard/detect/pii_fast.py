"""Fast PII detection: Presidio's recognizers, scores and context rules, without Presidio's slow path.

Stock Presidio runs the whole spaCy pipeline on every text, then every recognizer one by one, each
pattern through the backtracking ``regex`` module. Only NER needs spaCy, and most recognizers cannot
match most text. ``FastPiiDetector`` keeps Presidio's decisions and changes how the work is done:

* One Hyperscan pass (optional) says which recognizers can match a text at all; large texts are
  checked segment by segment.
* Pattern recognizers: each Presidio pattern is translated once to RE2 (``translate``) and matched
  in time linear in the text, on an ASCII image of it (``fold``) in which every non-ASCII character
  stands in for one of the same class for ``\\w``, ``\\d`` and ``\\s``, so spans and word boundaries
  stay where Presidio's Unicode matching puts them. A one-character lookbehind at the start or
  lookahead at the end becomes a consumed character class; any other construct RE2 lacks
  (lookarounds elsewhere, backreferences) is dropped from the RE2 pattern, which then finds a
  superset of starts, and each candidate is confirmed by Presidio's own pattern at that one position.
  Every match goes through the recognizer's own ``validate_result`` / ``invalidate_result`` (Luhn,
  IBAN checksum, tldextract for e-mail domains); IBAN's own ``analyze`` runs on each match.
* Patterns that cannot reach the score threshold, even with a context word, are not run. Those that
  reach it only with one (a driver's licence at 0.3, a phone number at 0.4) are searched only in the
  lines where one of their context words could be in reach.
* Phone numbers: python-phonenumbers, with Presidio's regions and leniency, reads only the pieces of
  text around digit runs, and per region only when a run has as many digits as the shortest valid
  number there (from phonenumbers' own metadata).
* NER: only the ``ner`` component runs (it has its own tok2vec in the spaCy pipelines ctxguard
  uses), batched over texts sorted by length; labels and scores are mapped by Presidio's
  ``SpacyNlpEngine`` and ``SpacyRecognizer``.
* Context: Presidio's ``LemmaContextAwareEnhancer``, fed spaCy lemmas computed only for texts that
  hold a result whose score a context word could change. The pattern path (``scan_patterns``) and
  texts too large for spaCy without NER (``spacy_max_chars``) apply the same rule to plain words
  instead of lemmas: the one documented approximation.
* Thresholds and overlaps: Presidio's ``EntityRecognizer.remove_duplicates`` on its ``RecognizerResult``.

Known differences from stock Presidio (see ``tests/test_pii.py``): the parser is not run, so NER does
not see the parser's sentence boundaries (the parser is the slowest component; on the benchmark
sentences this changes NER spans in 0.4% of texts); a run of phone-like characters longer than
``_PHONE_GROUP_MAX`` (only pathological input has one) is read in pieces; phonenumbers' bound of
65,535 candidates per text and region, which stock Presidio inherits, is applied to (piece, region)
readings instead; and a context word is looked for within ``_CONTEXT_WINDOW`` characters before a
result (Presidio reads five non-stop-word lemmas back, however far).
"""

from __future__ import annotations

import codecs
import importlib
import threading
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, cast

from .._patterns import compile_linear
from ..decision import Finding
from ..errors import ConfigurationError
from .offline import load_spacy_pipeline, preloaded_spacy_engine, use_bundled_suffix_list
from .secrets import ENTITY_PREFIX

# ---- the ASCII image of a text -------------------------------------------------------------------
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


# ---- Presidio pattern -> RE2 ---------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Translation:
    """An RE2 rendering of a Presidio pattern.

    ``pattern`` is matched against ``fold(text)``. ``group`` is the capture group holding the entity
    (1 when a lookbehind/lookahead became a consumed prefix/suffix, else 0). ``step_back`` is 1 when
    a prefix consumes the character before the entity, so the next search starts one back. ``exact``
    is False when a construct was dropped: the RE2 pattern then matches a superset of positions and
    each candidate must be confirmed by the original pattern.
    """

    pattern: str
    group: int
    step_back: int
    exact: bool


_UNSUPPORTED_GROUPS = ("(?>", "(?|", "(?(", "(?&", "(?R", "(?P=", "(?P>", "(?'")
_SPACE_CLASS = r"\t-\r "  # the regex module's ASCII \s; RE2's \s lacks \v


def _class_end(p: str, i: int) -> int:
    """Index just past the character class opening at p[i] == '['."""
    j = i + 1
    if j < len(p) and p[j] == "^":
        j += 1
    if j < len(p) and p[j] == "]":
        j += 1
    while j < len(p) and p[j] != "]":
        j += 2 if p[j] == "\\" else 1
    if j >= len(p):
        raise ValueError("unterminated character class")
    return j + 1


def _group_end(p: str, i: int) -> int:
    """Index just past the group opening at p[i] == '('."""
    depth, j = 0, i
    while j < len(p):
        c = p[j]
        if c == "\\":
            j += 2
            continue
        if c == "[":
            j = _class_end(p, j)
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise ValueError("unbalanced parenthesis")


def _negate_single(item: str) -> str | None:
    """RE2 class matching one character that ``item`` (a class, escape or literal) does not."""
    if item.startswith("[") and _class_end(item, 0) == len(item):
        inner = item[1:-1]
        body = inner[1:] if inner.startswith("^") else "^" + inner
        return "[" + _convert_class_body(body) + "]"
    if len(item) == 2 and item[0] == "\\" and item[1] in "wdsWDS":
        return {"w": r"\W", "d": r"\D", "s": f"[^{_SPACE_CLASS}]", "W": r"\w", "D": r"\d",
                "S": f"[{_SPACE_CLASS}]"}[item[1]]
    if len(item) == 1 and item not in "()[]{}|*+?.^$\\":
        return f"[^{item}]"
    if len(item) == 2 and item[0] == "\\" and not item[1].isalnum():
        return f"[^{item}]"
    return None


def _convert_class_body(body: str) -> str:
    out, j = [], 0
    while j < len(body):
        if body[j] == "\\" and j + 1 < len(body):
            esc = body[j + 1]
            if esc == "s":
                out.append(_SPACE_CLASS)
            elif esc == "S":
                raise ValueError(r"\S inside a class")
            else:
                out.append(body[j:j + 2])
            j += 2
        else:
            out.append(body[j])
            j += 1
    return "".join(out)


def _translate_body(p: str, groups: list[str]) -> tuple[str, bool]:
    """RE2 text for ``p``: groups made non-capturing, lookarounds dropped, backreferences widened.

    ``groups`` collects the translated text of each capturing group, numbered as the original
    numbers them, so a backreference can be replaced by what its group may match.
    """
    out: list[str] = []
    exact = True
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            if i + 1 >= n:
                raise ValueError("trailing backslash")
            esc = p[i + 1]
            if esc.isdigit() and esc != "0":
                k = int(esc)
                if k > len(groups) or not groups[k - 1]:
                    raise ValueError("backreference to an open or unknown group")
                out.append("(?:" + groups[k - 1] + ")")
                exact = False
            elif esc == "s":
                out.append(f"[{_SPACE_CLASS}]")
            elif esc == "S":
                out.append(f"[^{_SPACE_CLASS}]")
            elif esc == "Z":
                out.append(r"\z")
            elif esc == "x":
                code = p[i + 2:i + 4]
                if len(code) < 2 or int(code, 16) > 127:
                    raise ValueError("escape beyond ASCII")
                out.append(p[i:i + 4])
                i += 4
                continue
            elif esc in "pPNuUgGXRKhH":
                raise ValueError(f"escape \\{esc}")
            else:
                out.append(p[i:i + 2])
            i += 2
            continue
        if c == "[":
            j = _class_end(p, i)
            out.append("[" + _convert_class_body(p[i + 1:j - 1]) + "]")
            i = j
            continue
        if c == "(":
            if p.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
                i = _group_end(p, i)
                exact = False
                continue
            if p.startswith("(?#", i):
                i = p.index(")", i) + 1
                continue
            if p.startswith(_UNSUPPORTED_GROUPS, i):
                raise ValueError("group construct")
            j = _group_end(p, i)
            if p.startswith("(?P<", i):
                inner_start, head, capturing = p.index(">", i) + 1, "(?:", True
            elif p.startswith("(?", i):
                colon, close = p.find(":", i), p.find(")", i)
                if colon == -1 or close < colon:
                    out.append(p[i:close + 1])  # an inline flag group such as (?i): RE2 has it
                    i = close + 1
                    continue
                inner_start, head, capturing = colon + 1, p[i:colon + 1], False
            else:
                inner_start, head, capturing = i + 1, "(?:", True
            slot = len(groups)
            if capturing:
                groups.append("")
            inner, inner_exact = _translate_body(p[inner_start:j - 1], groups)
            if capturing:
                groups[slot] = inner
            exact = exact and inner_exact
            out.append(head + inner + ")")
            i = j
            continue
        if c == "{" and p.startswith("{,", i):
            out.append("{0,")
            i += 2
            continue
        if ord(c) > 127:
            raise ValueError("non-ASCII literal")
        out.append(c)
        i += 1
    return "".join(out), exact


def _top_level_alternation(p: str) -> bool:
    i, n = 0, len(p)
    while i < n:
        c = p[i]
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(p, i)
        elif c == "(":
            i = _group_end(p, i)
        elif c == "|":
            return True
        else:
            i += 1
    return False


def _split_lookaround(p: str) -> tuple[str | None, str, str | None]:
    """(negated class for a leading (?<!x), the rest, negated class for a trailing (?!x))."""
    prefix = suffix = None
    if p.startswith("(?<!"):
        end = _group_end(p, 0)
        neg = _negate_single(p[4:end - 1])
        if neg is not None:
            prefix, p = neg, p[end:]
    if p.endswith(")"):
        # find the group that closes at the very end
        i = 0
        last = -1
        while i < len(p):
            c = p[i]
            if c == "\\":
                i += 2
                continue
            if c == "[":
                i = _class_end(p, i)
                continue
            if c == "(":
                j = _group_end(p, i)
                if j == len(p):
                    last = i
                    break
                i = j
                continue
            i += 1
        if last != -1 and p.startswith("(?!", last):
            neg = _negate_single(p[last + 3:-1])
            if neg is not None:
                suffix, p = neg, p[:last]
    return prefix, p, suffix


def translate(pattern: str, flags: int) -> Translation:
    """Translate a Presidio pattern (``regex`` syntax, Presidio's flags) to RE2. Raises ValueError."""
    regex = _regex()

    unsupported = regex.VERBOSE | regex.ASCII | getattr(regex, "V1", 0) | regex.LOCALE
    if flags & unsupported:
        raise ValueError("unsupported flags")
    if "$" in pattern and not flags & regex.MULTILINE:
        raise ValueError("$ without MULTILINE")
    prefix, body, suffix = (None, pattern, None)
    if not _top_level_alternation(pattern):
        prefix, body, suffix = _split_lookaround(pattern)
    body_re2, exact = _translate_body(body, [])
    inline = ("(?s)" if flags & regex.DOTALL else "") + ("(?m)" if flags & regex.MULTILINE else "")
    if prefix is None and suffix is None:
        return Translation(inline + body_re2, 0, 0, exact)
    out = inline + (rf"(?:\A|{prefix})" if prefix else "") + "(" + body_re2 + ")"
    out += rf"(?:\z|{suffix})" if suffix else ""
    return Translation(out, 1, 1 if prefix else 0, exact)


# ---- plans: how each Presidio recognizer is driven -----------------------------------------------
@dataclass(slots=True)
class _PatternPlan:
    """One pattern of a Presidio PatternRecognizer: its RE2 rendering and Presidio's own compilation."""

    score: float
    source: str  # the RE2 pattern text
    ignore_case: bool
    regex: Any  # RE2, matched against the folded bytes
    group: int
    step_back: int
    exact: bool  # False: the RE2 pattern finds a superset of starts; each is confirmed by Presidio's pattern
    regex_source: str  # Presidio's pattern and flags, compiled with the regex module only when needed
    regex_flags: int
    # A pattern whose score passes the threshold only with a context word is searched only in lines
    # where a context word could be in reach (see _Gate); None: searched everywhere.
    gate: _Gate | None = None

    @property
    def original(self) -> Any:
        """Presidio's own compiled pattern (the regex module caches compilations)."""
        regex = _regex()

        return regex.compile(self.regex_source, flags=self.regex_flags)


@dataclass(slots=True)
class _Gate:
    """Where a context word may lift a result over the threshold.

    ``stems`` finds the recognizer's context words as they may appear in the text (``_stem``); a
    result can be lifted only if one starts within ``_CONTEXT_WINDOW`` characters before it or inside
    it. ``width`` is the pattern's longest match (None: unbounded); ``line_local`` says no match can
    hold a line break, so the search can be confined to the lines around the context words.
    """

    stems: Any
    width: int | None
    line_local: bool
    words: tuple[str, ...] = ()  # the stems as plain lower-case strings


@dataclass(slots=True)
class _RecognizerPlan:
    recognizer: Any
    entity: str
    patterns: list[_PatternPlan]
    validates: bool
    invalidates: bool
    # IbanRecognizer's own analyze trims each regex match until the checksum holds; it is run on each
    # exact RE2 match instead of on the whole text.
    windowed: bool
    line_local: bool = False  # no pattern of it can match across a line break


@dataclass(slots=True)
class _PhonePlan:
    recognizer: Any
    regions: tuple[str, ...]
    min_digits: dict[str, int]
    intl_min_digits: int
    fewest: int  # fewer digits than this in a run: no region can find a valid number in it
    # When the phone score alone is under the threshold, only a context word can lift it: numbers
    # with no context word near them are not worth reading. None: every number is read.
    gate: _Gate | None


@dataclass(slots=True)
class _Work:
    """One text's state while a batch moves through the stages."""

    text: str
    results: list[Any] = field(default_factory=list)
    chunks: list[tuple[int, str]] = field(default_factory=list)
    docs: list[Any] = field(default_factory=list)
    needs_context: bool = False


# python-phonenumbers finds a number in a run of digits, its punctuation (x - . / ~ brackets space) and
# leading '+' or bracket, optionally followed by an extension ("ext. 12", "x12", "#12"). On the folded
# text, '\x7f', '\x0c' and '_' stand in for the non-ASCII punctuation, spaces and letters it also
# accepts (fullwidth forms, dashes, ideographic space), so a run here is never narrower than its.
_PHONE_CHARS = r"0-9 \-xX().\[\]/~+_\x0c\x7f"
_PHONE_RUN = rf"[{_PHONE_CHARS}]*[0-9][{_PHONE_CHARS}]*"
# What can join a number to its extension: blanks, commas, a short keyword, ':' or '.', blanks, '-'.
_PHONE_EXTENSION_GAP = r"[\t ,;\x0c]*(?:[A-Za-z_\x7f#~=]{1,12})?[:.=\x7f]?[\t ,\x0c\-]*"
_NOT_DIGITS = bytes(b for b in range(256) if not 48 <= b <= 57)
_PHONE_GROUP_MAX = 4000  # a longer group (pathological input) is read in pieces of this size
_PHONE_NUMBER_BLOCKS = 21  # phonenumbers' candidates: one digit block and up to 20 more
_PHONE_EXTENSION_MAX = 48  # after the last block: an extension ("ext." and digits) and a ":ss" tail
# python-phonenumbers stops after 65,535 candidates per text and region (its ``max_tries``), and so
# does stock Presidio; here the same bound applies to the number of (piece, region) readings.
_PHONE_BUDGET = 65_535
_SPACY_RUN_MAX = 128  # longest run without a space handed to spaCy's tokenizer (see _tokenizable)


def _overrides(obj: Any, name: str, base: type) -> bool:
    return getattr(type(obj), name, None) is not getattr(base, name, None)


@lru_cache(maxsize=1)
def _phone_metadata() -> tuple[dict[str, int], int]:
    """Fewest digits of a valid number per region (national form), and in international form overall.

    From python-phonenumbers' own metadata: a candidate with fewer digits than a region's shortest
    valid number cannot be a VALID match for that region, unless it carries a country code, and then
    it has at least as many digits as the shortest international number anywhere.
    """
    import phonenumbers
    from phonenumbers import PhoneMetadata

    kinds = ("fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
             "pager", "uan", "voicemail")

    def shortest(md: Any) -> int:
        best = 99
        for kind in kinds:
            desc = getattr(md, kind, None)
            if desc is None or desc.national_number_pattern is None:
                continue
            lengths = [x for x in (desc.possible_length or md.general_desc.possible_length) if x > 0]
            if lengths:
                best = min(best, min(lengths))
        return best

    per_region: dict[str, int] = {}
    intl = 99
    for region in phonenumbers.SUPPORTED_REGIONS:
        md = PhoneMetadata.metadata_for_region(region)
        if md is None:
            continue
        per_region[region] = shortest(md)
        intl = min(intl, per_region[region] + len(str(md.country_code)))
    return per_region, intl


@lru_cache(maxsize=4096)
def _phone_matches_cached(window: str, region: str, leniency: int) -> tuple[tuple[int, int], ...]:
    return _phone_matches(window, region, leniency)


def _phone_matches(window: str, region: str, leniency: int) -> tuple[tuple[int, int], ...]:
    import phonenumbers

    return tuple((m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(window, region, leniency=leniency))


_PREFILTER_MAX = 64 << 10  # longer texts are checked segment by segment
_SEGMENT = 16 << 10
_PREFILTER_PATTERN_MAX = 2000
_PHONE_ID = 1 << 20  # the prefilter id of the phone-number run pattern


class _Prefilter:
    """One Hyperscan pass that says which recognizers can match a text at all.

    Compiled in Hyperscan's prefilter mode, each expression matches a superset of what its RE2
    pattern matches, so a recognizer left out cannot have matched. Hyperscan is optional: without
    it (or for a pattern it cannot take) every pattern simply runs.
    """

    def __init__(self, hs: Any, db: Any, always: frozenset[int]) -> None:
        self._hs = hs
        self._db = db
        self._always = always
        self._local = threading.local()

    @classmethod
    def build(cls, plans: list[_RecognizerPlan], phone: bool) -> _Prefilter | None:
        try:
            import hyperscan as hs
        except ImportError:
            return None
        exprs: list[bytes] = []
        ids: list[int] = []
        flags: list[int] = []
        always: set[int] = set()
        base = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY
        for i, plan in enumerate(plans):
            for pp in plan.patterns:
                if len(pp.source) > _PREFILTER_PATTERN_MAX:
                    # URL's list of top-level domains: seconds to compile, and it slows the whole
                    # pass; RE2 runs it on every text instead.
                    always.add(i)
                    continue
                exprs.append(pp.source.encode())
                ids.append(i)
                flags.append(base | (hs.HS_FLAG_CASELESS if pp.ignore_case else 0))
        if phone:
            exprs.append(_PHONE_RUN.encode())
            ids.append(_PHONE_ID)
            flags.append(base)

        def compile_db(keep: list[int]) -> Any:
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=[exprs[k] for k in keep], ids=[ids[k] for k in keep], elements=len(keep),
                       flags=[flags[k] for k in keep])
            return db

        try:
            db = compile_db(list(range(len(exprs)))) if exprs else None
        except hs.error:  # some expression is beyond Hyperscan: find which, and let RE2 run those
            keep = []
            for k in range(len(exprs)):
                try:
                    compile_db([k])
                    keep.append(k)
                except hs.error:
                    always.add(ids[k])
            db = compile_db(keep) if keep else None
        if db is None or _PHONE_ID in always:
            return None
        return cls(hs, db, frozenset(always))

    def regions(self, data: bytes) -> dict[int, list[tuple[int, int]]]:
        """For each recognizer (and the phone run), the stretches of ``data`` where it can match.

        Short texts are one stretch. Longer ones are cut at line breaks into segments of about
        ``_SEGMENT`` bytes, each checked on its own; adjacent segments merge. A recognizer whose
        patterns can cross a line break is searched over the whole text wherever it is present.
        """
        n = len(data)
        if n <= _PREFILTER_MAX:
            return {i: [(0, n)] for i in self.present(data)}
        out: dict[int, list[tuple[int, int]]] = {}
        a = 0
        while a < n:
            b = data.find(b"\n", a + _SEGMENT)
            b = n if b < 0 else b
            for i in self.present(data[a:b]):
                spans = out.setdefault(i, [])
                if spans and spans[-1][1] + 1 >= a:
                    spans[-1] = (spans[-1][0], b)
                else:
                    spans.append((a, b))
            a = b + 1
        return out

    def present(self, data: bytes) -> set[int]:
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self._hs.Scratch(self._db)
        found = set(self._always)

        def on_match(rule: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
            found.add(rule)

        self._db.scan(data, match_event_handler=on_match, scratch=scratch)
        return found


class FastPiiDetector:
    """Presidio's PII recognizers, scores and context rules; linear-time patterns and batched NER.

    Same contract and arguments as ``PresidioDetector``: ``detect(text) -> list[Finding]`` with kinds
    ``pii:<ENTITY>`` (``secret:<NAME>`` for extra recognizers of secret entities). ``detect_many``
    batches NER across texts; ``scan_patterns`` is the pattern path alone, without spaCy.
    """

    name = "pii"

    def __init__(
        self,
        *,
        model: str = "en_core_web_sm",
        language: str = "en",
        entities: list[str] | None = None,
        score_threshold: float = 0.5,
        extra_recognizers: list[Any] | None = None,
        batch_size: int = 256,
        spacy_max_chars: int = 100_000,
    ) -> None:
        self.model = model
        self.language = language
        self.entities = list(entities) if entities else None
        self.score_threshold = score_threshold
        self.batch_size = batch_size
        # spaCy refuses texts over its max_length, and NER reads about 40k characters a second: a
        # longer text is cut at line breaks into pieces of at most this size for spaCy. A text this
        # long that needs no NER gets the spaCy-free context step (see _context_without_spacy).
        self.spacy_max_chars = spacy_max_chars
        self._extra = list(extra_recognizers or [])
        self._lock = threading.Lock()
        self._built = False

    # ---- building ---------------------------------------------------------------------------------
    def _ensure_built(self) -> None:
        if not self._built:
            with self._lock:
                if not self._built:
                    self._build()
                    self._built = True

    def _build(self) -> None:
        use_bundled_suffix_list()
        try:
            from .offline import import_presidio_quietly

            import_presidio_quietly()
            from presidio_analyzer import EntityRecognizer, PatternRecognizer, RecognizerRegistry
            from presidio_analyzer.context_aware_enhancers import LemmaContextAwareEnhancer
            from presidio_analyzer.nlp_engine import NerModelConfiguration
            from presidio_analyzer.predefined_recognizers import IbanRecognizer, PhoneRecognizer, SpacyRecognizer
        except ImportError as exc:  # pragma: no cover - a dependency of the package
            raise ConfigurationError(f"presidio-analyzer is not installed: {exc}") from None

        nlp = load_spacy_pipeline(self.model)

        language = self.language
        # Labels the model has and Presidio maps to no entity (CARDINAL, MONEY, ...) are ignored, as
        # Presidio's default configuration ignores them, instead of logged as a warning on every text.
        mapping = NerModelConfiguration().model_to_presidio_entity_mapping or {}
        labels = nlp.get_pipe("ner").labels if "ner" in nlp.pipe_names else ()
        config = NerModelConfiguration(labels_to_ignore=[label for label in labels if label not in mapping])
        engine = preloaded_spacy_engine(nlp, self.model, language, config)
        registry = RecognizerRegistry(supported_languages=[language])
        registry.load_predefined_recognizers(languages=[language], nlp_engine=engine)
        for rec in self._extra:
            registry.add_recognizer(rec)
        extra = [e for r in self._extra for e in r.supported_entities]  # one recognizer may cover many
        entities = self.entities + extra if self.entities else None
        recognizers = list(registry.get_recognizers(language=language, entities=entities,
                                                    all_fields=entities is None))
        if entities is None:
            entities = sorted({e for r in recognizers for e in r.supported_entities})
        self._requested = list(entities)
        self._nlp = nlp
        self._engine = engine
        self._enhancer = LemmaContextAwareEnhancer()
        self._recognizers = recognizers
        self._by_id = {rec.id: rec for rec in recognizers}
        self._ner: Any = None
        self._patterns: list[_RecognizerPlan] = []
        self._phones: list[_PhonePlan] = []
        self._fallback: list[Any] = []
        self._context_ids = {rec.id for rec in recognizers if rec.context}
        self._always_enhance = any(_overrides(r, "enhance_using_context", EntityRecognizer) for r in recognizers)
        threshold = self.score_threshold
        factor = self._enhancer.context_similarity_factor
        floor = self._enhancer.min_score_with_context_similarity

        def reachable(rec: Any, score: float) -> bool:
            """Whether a result of this score can still pass the threshold (a context word adds to it)."""
            if _overrides(rec, "enhance_using_context", EntityRecognizer):
                return True
            best = min(1.0, max(score + factor, floor)) if rec.context else score
            return best >= threshold

        for rec in recognizers:
            if isinstance(rec, SpacyRecognizer) and not _overrides(rec, "analyze", SpacyRecognizer):
                self._ner = rec
            elif isinstance(rec, PhoneRecognizer) and not _overrides(rec, "analyze", PhoneRecognizer):
                if reachable(rec, rec.SCORE):
                    per_region, intl = _phone_metadata()
                    regions = tuple(rec.supported_regions)
                    fewest = min([intl] + [per_region.get(r, 0) for r in regions])
                    gate = None
                    if rec.SCORE < threshold and not _overrides(rec, "enhance_using_context", EntityRecognizer):
                        gate = _Gate(_stems(rec.context), None, True, tuple(_stem(w, False) for w in rec.context))
                    self._phones.append(_PhonePlan(rec, regions, per_region, intl, fewest, gate))
            elif isinstance(rec, PatternRecognizer):
                plan = self._pattern_plan(rec, reachable, PatternRecognizer, IbanRecognizer)
                if plan is None:
                    self._fallback.append(rec)
                elif plan.patterns:
                    self._patterns.append(plan)
            else:
                self._fallback.append(rec)
        if self._ner is not None:
            _prefer_numpy_gemm(nlp)
        # What gives tokens their lemmas: every component but NER, which has its own tok2vec.
        self._lemma_pipes = [proc for name, proc in nlp.pipeline if name != "ner"]
        self._phone_run = compile_linear(_PHONE_RUN)
        self._long_run = compile_linear(rf"[^\t-\r \x1c-\x1f]{{{_SPACY_RUN_MAX + 1},}}")
        words = 2 * (self._enhancer.context_prefix_count + 1) + _PHONE_NUMBER_BLOCKS
        self._phone_words = compile_linear(rf"(?:[^0-9A-Za-z_\n]*[0-9A-Za-z_]+){{{words}}}")
        self._phone_gap = compile_linear(_PHONE_EXTENSION_GAP)
        self._prefilter = _Prefilter.build(self._patterns, bool(self._phones))

    def _pattern_plan(self, rec: Any, reachable: Any, base: type, iban: type) -> _RecognizerPlan | None:
        """RE2 plans for a PatternRecognizer, or None when Presidio must run it as it is."""
        regex = _regex()
        from presidio_analyzer import EntityRecognizer

        windowed = type(rec) is iban
        if _overrides(rec, "analyze", base) and not windowed:
            return None  # an analyze we do not know
        validates = _overrides(rec, "validate_result", base)
        flags = rec.global_regex_flags
        gateable = bool(rec.context) and not validates and not windowed and not _overrides(
            rec, "enhance_using_context", EntityRecognizer)
        plans: list[_PatternPlan] = []
        for pat in rec.patterns or ():
            if not validates and not windowed and not reachable(rec, pat.score):
                continue  # cannot pass the threshold even with a context word: Presidio would drop it
            try:
                tr = translate(pat.regex, flags)
                compiled = compile_linear(tr.pattern, ignore_case=bool(flags & regex.IGNORECASE))
            except ValueError:
                return None
            if compiled.search(b"") is not None or (windowed and not tr.exact):
                return None
            plan = _PatternPlan(pat.score, tr.pattern, bool(flags & regex.IGNORECASE), compiled, tr.group,
                                tr.step_back, tr.exact, pat.regex, flags)
            if gateable and pat.score < self.score_threshold:
                plan.gate = _Gate(_stems(rec.context), *_shape(tr.pattern), tuple(_stem(w, False) for w in rec.context))
            plans.append(plan)
        return _RecognizerPlan(rec, rec.supported_entities[0], plans, validates,
                               _overrides(rec, "invalidate_result", base), windowed,
                               all(_shape(p.source)[1] for p in plans))

    def describe(self) -> dict[str, list[str]]:
        """Which recognizers run how: RE2 patterns, windowed phone matching, NER, or Presidio as is."""
        self._ensure_built()
        return {
            "re2": [f"{p.recognizer.name}:{len(p.patterns)}" for p in self._patterns],
            "phone": [p.recognizer.name for p in self._phones],
            "ner": [self._ner.name] if self._ner is not None else [],
            "presidio": [r.name for r in self._fallback],
        }

    # ---- public API -------------------------------------------------------------------------------
    def detect(self, text: str) -> list[Finding]:
        return self.detect_many([text])[0]

    def detect_many(self, texts: Sequence[str]) -> list[list[Finding]]:
        """Findings for each text, as ``detect`` would give them; NER runs batched across the texts."""
        self._ensure_built()
        work = [_Work(t) for t in texts]
        for w in work:
            if w.text.strip():
                w.results = self._pattern_results(w.text)
        self._spacy_stage(work)
        return [self._finish(w.results) if w.text.strip() else [] for w in work]

    def scan_patterns(self, text: str) -> list[Finding]:
        """The pattern path alone: pattern and phone recognizers, context from words, no spaCy."""
        self._ensure_built()
        if not text.strip():
            return []
        w = _Work(text, self._pattern_results(text, lemmas=False))
        self._context_without_spacy(w)
        return self._finish(w.results)

    # ---- stage 1: patterns and phone numbers ------------------------------------------------------
    def _pattern_results(self, text: str, lemmas: bool = True) -> list[Any]:
        """Results of the pattern and phone recognizers, before context, threshold and overlaps.

        ``lemmas``: whether the context step that follows reads spaCy lemmas (detect) or plain words
        (scan_patterns); it decides how wide the phone-number shortcut must look.
        """
        from presidio_analyzer import EntityRecognizer

        data, lossy = fold(text)
        n = len(data)
        whole = [(0, n)]
        present = self._prefilter.regions(data) if self._prefilter is not None else None
        stems: dict[int, list[int]] = {}  # context-word occurrences, per gate, computed once per text
        out: list[Any] = []
        for i, plan in enumerate(self._patterns):
            where = whole if present is None else present.get(i)
            if not where:
                continue
            if not plan.line_local:
                where = whole
            if plan.windowed:
                out += self._windowed(plan, text, data, lossy, where)
                continue
            found: list[Any] = []
            for pp in plan.patterns:
                found += self._matches(plan, pp, text, data, lossy, stems, where)
            # PatternRecognizer drops results contained in another of its own; one pattern's matches
            # never overlap, so a one-pattern recognizer has nothing to drop.
            out += EntityRecognizer.remove_duplicates(found) if len(plan.patterns) > 1 else found
        if present is None or _PHONE_ID in present:
            for phone in self._phones:
                out += self._phone_results(phone, text, data, stems, lemmas)
        return out

    @staticmethod
    def _reach(gate: _Gate, data: bytes, stems: dict[int, list[int]]) -> tuple[list[int], list[tuple[int, int]] | None]:
        """Where a gate's context words occur, and the lines where a result could be lifted by one.

        Returns (occurrences, regions); regions None means the whole text must be searched (and
        results filtered by the occurrences afterwards).
        """
        key = id(gate.stems)
        occ = stems.get(key)
        if occ is None:
            occ = stems[key] = [m.start() for m in gate.stems.finditer(data)]
        if not occ or not gate.line_local:
            return occ, None
        regions: list[tuple[int, int]] = []
        end = 0  # regions end on a line break (or the end): searches for the next start begin there
        for o in occ:
            lo = max(0, o - (gate.width if gate.width is not None else 0)) if gate.width is not None else o
            hi = o + _CONTEXT_WINDOW + (gate.width or 0)
            if regions and lo <= regions[-1][1]:
                if hi <= regions[-1][1]:
                    continue
                start = regions.pop()[0]
            else:
                start = data.rfind(b"\n", end, lo) + 1 if lo > end else end
                start = max(start, end)
            nl = data.find(b"\n", hi)
            end = len(data) if nl < 0 else nl
            regions.append((start, end))
        return occ, regions

    @staticmethod
    def _lifted(occ: list[int], start: int, end: int) -> bool:
        """Whether a context word starts in the window before ``start`` or inside the result."""
        i = bisect_left(occ, start - _CONTEXT_WINDOW)
        return i < len(occ) and occ[i] < end

    @staticmethod
    def _spans(pp: _PatternPlan, text: str, data: bytes, lossy: bool, pos: int = 0, n: int = -1
               ) -> Iterator[tuple[int, int]]:
        """The spans Presidio's ``finditer`` gives for one pattern, found by RE2 on the folded bytes.

        ``pos``/``n`` confine the search to a region that starts and ends on a line boundary (only
        used for patterns that cannot match across one), which ``finditer`` would enter fresh.
        """
        confirm = pp.original if lossy or not pp.exact else None
        search = pp.regex.search
        group, back = pp.group, pp.step_back
        n = len(data) if n < 0 else n
        while pos <= n:
            m = search(data, pos, n)
            if m is None:
                return
            start, end = m.span(group)
            if confirm is not None:
                cm = confirm.match(text, start)
                if cm is None:
                    pos = max(start + 1 - back, m.start() + 1)
                    continue
                start, end = cm.span()
            if end > start:
                yield start, end
            pos = max(max(end, start + 1) - back, m.start() + 1)

    def _result(self, rec: Any, entity: str, start: int, end: int, score: float) -> Any:
        from presidio_analyzer import RecognizerResult

        return RecognizerResult(
            entity_type=entity, start=start, end=end, score=score,
            recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: rec.name,
                                  RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: rec.id},
        )

    def _matches(self, plan: _RecognizerPlan, pp: _PatternPlan, text: str, data: bytes, lossy: bool,
                 stems: dict[int, list[int]], where: list[tuple[int, int]]) -> list[Any]:
        """Presidio's ``PatternRecognizer`` scoring of each match: validate, invalidate, drop zeros."""
        rec = plan.recognizer
        out: list[Any] = []
        if pp.gate is None:
            spans: Iterable[tuple[int, int]] = (s for a, b in where for s in self._spans(pp, text, data, lossy, a, b))
        else:
            occ, regions = self._reach(pp.gate, data, stems)
            if not occ:
                return out
            found = self._spans(pp, text, data, lossy) if regions is None else (
                s for a, b in regions for s in self._spans(pp, text, data, lossy, a, b))
            spans = (s for s in found if self._lifted(occ, *s))
        for start, end in spans:
            value = text[start:end]
            score = pp.score
            if plan.validates:
                valid = rec.validate_result(value)
                if valid is not None:
                    score = 1.0 if valid else 0.0
            if plan.invalidates and rec.invalidate_result(value):
                score = 0.0
            if score > 0.0:
                out.append(self._result(rec, plan.entity, start, end, score))
        return out

    def _windowed(self, plan: _RecognizerPlan, text: str, data: bytes, lossy: bool,
                  where: list[tuple[int, int]]) -> list[Any]:
        rec = plan.recognizer
        if lossy:
            return self._run_presidio(rec, text, None)
        out = []
        for pp in plan.patterns:
            for start, end in (s for a, b in where for s in self._spans(pp, text, data, lossy, a, b)):
                for r in rec.analyze(text=text[start:end], entities=[plan.entity], nlp_artifacts=None) or ():
                    r.start += start
                    r.end += start
                    out.append(r)
        return out

    def _run_presidio(self, rec: Any, text: str, artifacts: Any) -> list[Any]:
        """A recognizer we cannot drive faster, run exactly as AnalyzerEngine runs it."""
        from presidio_analyzer import RecognizerResult

        if not rec.is_loaded:
            rec.load()
            rec.is_loaded = True
        results = list(rec.analyze(text=text, entities=self._requested, nlp_artifacts=artifacts) or ())
        for r in results:
            meta = r.recognition_metadata if r.recognition_metadata is not None else {}
            meta.setdefault(RecognizerResult.RECOGNIZER_NAME_KEY, rec.name)
            meta.setdefault(RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, rec.id)
            r.recognition_metadata = meta
        return results

    def _phone_results(self, plan: _PhonePlan, text: str, data: bytes, stems: dict[int, list[int]], lemmas: bool
                       ) -> list[Any]:
        from presidio_analyzer import EntityRecognizer

        rec = plan.recognizer
        entity = rec.supported_entities[0]
        out: list[Any] = []
        budget = _PHONE_BUDGET
        for start, end, digits in self._phone_pieces(plan, text, data, stems, lemmas):
            piece = text[start:end]
            match = _phone_matches_cached if len(piece) <= 256 else _phone_matches
            for region in plan.regions:
                if digits < plan.intl_min_digits and digits < plan.min_digits.get(region, 0):
                    continue  # too few digits for any valid number of this region
                budget -= 1
                if budget < 0:
                    return EntityRecognizer.remove_duplicates(out) if out else out
                for s, e in match(piece, region, rec.leniency):
                    out.append(self._result(rec, entity, start + s, start + e, rec.SCORE))
        return EntityRecognizer.remove_duplicates(out) if out else out

    def _phone_pieces(self, plan: _PhonePlan, text: str, data: bytes, stems: dict[int, list[int]], lemmas: bool
                      ) -> Iterator[tuple[int, int, int]]:
        """(start, end, most digits in one run) of each piece of text phonenumbers must read.

        A piece is a group of digit runs, chained when the gap between two could be a number's
        extension, plus one character before (phonenumbers looks at it) and four after (a ``:ss``
        timestamp tail). phonenumbers never joins text across anything else, so reading the piece
        gives what reading the whole text gives there. A number lies within one run, so only runs
        with as many digits as the shortest valid number can start one. When a phone number needs a
        context word to pass the threshold, such a run must also have a context word in reach: a stem
        of one among the words just before it (twice as many as Presidio's rule reads, so lemmas that
        differ from their words cannot slip past), and in the ``_CONTEXT_WINDOW`` before it.
        """
        n = len(data)
        gate = plan.gate
        near: list[int] | None = None
        regions: list[tuple[int, int]] | None = [(0, n)]
        if gate is not None:
            near, regions = self._reach(gate, data, stems)
            if not near:
                return
        # With spaCy lemmas to come, read twice as many words as Presidio's rule, for stems; without,
        # the pattern path's own rule (_context_without_spacy) is applied exactly.
        want = (self._enhancer.context_prefix_count + 1) * (2 if lemmas else 1)
        words = gate.words if gate is not None and lemmas else tuple(c.lower() for c in plan.recognizer.context)
        # [start, end, most digits in a run, whether a run may start a number, where reading may stop]
        group: list[int] | None = None
        runs = self._phone_run.finditer
        for s, e in (m.span() for a, b in (regions or [(0, n)]) for m in runs(data, a, b)):
            digits = len(data[s:e].translate(None, _NOT_DIGITS))
            hopeful = digits >= plan.fewest and (gate is None or (
                near is not None and self._lifted(near, s, e) and any(
                    w in kw for kw in _keywords_before(text, s, want) for w in words)))
            # Every word in a run (digits, 'x') counts among the words Presidio's rule reads back, so
            # a number starting after ``want`` of them is out of reach of the context word before the
            # run; phonenumbers need read no further than the longest number that starts before, which
            # spans at most 21 digit blocks (each block is part of a word) and an extension.
            stop = n
            if hopeful and gate is not None:
                m = self._phone_words.match(data, s)
                stop = m.end() + _PHONE_EXTENSION_MAX if m is not None else n
            if group is not None:
                gap_start = group[1]
                close = s - gap_start <= 24 and data.find(b"\n", gap_start, s) < 0
                if close or self._phone_gap.fullmatch(data, gap_start, s) is not None:
                    group[1], group[2] = e, max(group[2], digits)
                    if hopeful:
                        group[4] = stop if not group[3] else max(group[4], stop)
                        group[3] = 1
                    continue
                yield from self._pieces_of(group, n)
            group = [s, e, digits, int(hopeful), stop]
        if group is not None:
            yield from self._pieces_of(group, n)

    @staticmethod
    def _pieces_of(group: list[int], n: int) -> Iterator[tuple[int, int, int]]:
        start, end, digits, hopeful, stop = group
        if not hopeful:
            return
        start, end = max(0, start - 1), min(n, end + 4, stop)
        while end - start > _PHONE_GROUP_MAX:
            yield start, start + _PHONE_GROUP_MAX, digits
            start += _PHONE_GROUP_MAX - 64
        yield start, end, digits

    # ---- stage 2: spaCy: NER, and lemmas where a context word could change a score --------------
    def _needs_context(self, results: Iterable[Any]) -> bool:
        if self._always_enhance:
            return True
        from presidio_analyzer import RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        ids = self._context_ids
        return any(r.score < 1.0 and r.recognition_metadata.get(key) in ids for r in results)

    def _chunks(self, text: str) -> list[tuple[int, str]]:
        limit = self.spacy_max_chars
        if len(text) <= limit:
            return [(0, text)]
        out = []
        pos = 0
        while pos < len(text):
            end = min(len(text), pos + limit)
            if end < len(text):
                cut = text.rfind("\n", pos, end)
                if cut <= pos:
                    cut = text.rfind(" ", pos, end)
                end = cut + 1 if cut > pos else end
            out.append((pos, text[pos:end]))
            pos = end
        return out

    def _spacy_stage(self, work: list[_Work]) -> None:
        ner = self._ner is not None
        pending: list[tuple[_Work, int, str]] = []
        for w in work:
            if not w.text.strip():
                continue
            w.needs_context = bool(self._fallback) or self._needs_context(w.results)
            if ner or (w.needs_context and len(w.text) <= self.spacy_max_chars):
                w.chunks = self._chunks(w.text)
                w.docs = [None] * len(w.chunks)
                pending += [(w, i, chunk) for i, (_, chunk) in enumerate(w.chunks)]
            elif w.needs_context:
                for rec in self._fallback:
                    w.results += self._run_presidio(rec, w.text, None)
                self._context_without_spacy(w)
        if not pending:
            return
        nlp = self._nlp
        # Batches of similar length: the NER transition loop runs as long as the longest text.
        order = sorted(range(len(pending)), key=lambda i: len(pending[i][2]))
        docs = [nlp.make_doc(self._tokenizable(pending[i][2])) for i in order]
        lemma_at = [k for k, i in enumerate(order) if pending[i][0].needs_context]
        with _one_blas_thread():
            if ner:
                docs = list(nlp.get_pipe("ner").pipe(docs, batch_size=self.batch_size))
            if lemma_at:
                sub = [docs[k] for k in lemma_at]
                for proc in self._lemma_pipes:
                    sub = list(proc.pipe(sub, batch_size=self.batch_size)) if hasattr(proc, "pipe") else [
                        proc(d) for d in sub]
                for k, d in zip(lemma_at, sub, strict=True):
                    docs[k] = d
        for k, i in enumerate(order):
            w, ci, _ = pending[i]
            w.docs[ci] = docs[k]
        for w in work:
            if w.docs:
                self._apply_docs(w)

    def _tokenizable(self, text: str) -> str:
        """``text`` with a space every ``_SPACY_RUN_MAX`` characters of any longer run without one.

        spaCy's tokenizer strips prefixes and suffixes one at a time, re-reading the rest of the run
        each time: 20 kB of "((((" or "'s's's" take a minute, in stock Presidio too. Offsets are kept
        (one character for one); no named entity is a run of 129 characters without a space, and spaCy
        reads such a run, at worst, about as fast as it runs NER on it.
        """
        data, _ = fold(text)
        runs = [m.span() for m in self._long_run.finditer(data)]
        if not runs:
            return text
        chars = list(text)
        for s, e in runs:
            for i in range(s + _SPACY_RUN_MAX, e, _SPACY_RUN_MAX + 1):
                chars[i] = " "
        return "".join(chars)

    def _apply_docs(self, w: _Work) -> None:
        """NER results, Presidio-run recognizers and the context step, chunk by chunk."""
        starts = [s for s, _ in w.chunks]
        per_chunk: list[list[Any]] = [[] for _ in w.chunks]
        for r in w.results:
            ci = bisect_right(starts, r.start) - 1
            r.start -= starts[ci]
            r.end -= starts[ci]
            per_chunk[ci].append(r)
        out: list[Any] = []
        for (offset, chunk), doc, results in zip(w.chunks, w.docs, per_chunk, strict=True):
            artifacts = self._artifacts(doc, w.needs_context)
            if self._ner is not None:
                results += self._ner.analyze(chunk, self._requested, artifacts)
            for rec in self._fallback:
                results += self._run_presidio(rec, chunk, artifacts)
            if w.needs_context and results:
                results = self._enhance(chunk, results, artifacts)
            for r in results:
                r.start += offset
                r.end += offset
            out += results
        w.results = out

    def _artifacts(self, doc: Any, lemmas: bool) -> Any:
        """Presidio's NlpArtifacts for a doc: labels mapped and scored by its SpacyNlpEngine.

        Lemmas and keywords are only needed by the context step; without them the artifacts carry
        the entities alone, which is all SpacyRecognizer reads.
        """
        engine = self._engine
        if lemmas:
            return engine._doc_to_nlp_artifact(doc, self.language)
        from presidio_analyzer.nlp_engine import NlpArtifacts

        ents, scores = engine._get_updated_entities(list(doc.ents), engine._get_scores_for_entities(doc))
        return NlpArtifacts(entities=ents, tokens=doc, tokens_indices=[], lemmas=[], nlp_engine=None,
                            language=self.language, scores=scores)

    def _enhance(self, text: str, results: list[Any], artifacts: Any) -> list[Any]:
        """AnalyzerEngine's context step: each recognizer's own enhancement, then the lemma enhancer."""
        from presidio_analyzer import AnalysisExplanation, RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        for r in results:
            if r.analysis_explanation is None and r.recognition_metadata.get(key) in self._context_ids:
                # the enhancer records the context word it used in the explanation
                r.analysis_explanation = AnalysisExplanation(
                    recognizer=str(r.recognition_metadata.get(RecognizerResult.RECOGNIZER_NAME_KEY, "")),
                    original_score=r.score)
        enhanced: list[Any] = []
        for rec_id in dict.fromkeys(r.recognition_metadata.get(key) for r in results):
            own = [r for r in results if r.recognition_metadata.get(key) == rec_id]
            rec = self._by_id.get(rec_id)
            if rec is not None:
                others = [r for r in results if r.recognition_metadata.get(key) != rec_id]
                own = rec.enhance_using_context(text=text, raw_recognizer_results=own,
                                                other_raw_recognizer_results=others, nlp_artifacts=artifacts,
                                                context=None)
            enhanced += own
        # The lemma enhancer only raises results of recognizers with context words, below the maximum;
        # it deep-copies what it is given, so it is given those alone.
        ids = self._context_ids
        movable = [r for r in enhanced if r.score < 1.0 and r.recognition_metadata.get(key) in ids]
        if not movable:
            return enhanced
        fixed = [r for r in enhanced if not (r.score < 1.0 and r.recognition_metadata.get(key) in ids)]
        return fixed + list(self._enhancer.enhance_using_context(
            text=text, raw_results=movable, nlp_artifacts=artifacts, recognizers=self._recognizers, context=None))

    def _context_without_spacy(self, w: _Work) -> None:
        """The context step for text spaCy does not read: Presidio's rule over plain words.

        LemmaContextAwareEnhancer takes the token a result starts in and the five non-stop-word,
        non-punctuation lemmas before it, and raises the score (by 0.35, to at least 0.4) when one of
        the recognizer's context words is a substring of one of them. Here the same rule, with the
        enhancer's own parameters, runs over lower-cased words split at blanks and punctuation instead
        of spaCy lemmas ("calling" rather than "call"). Only results a context word can carry over the
        threshold are looked at; the others keep their score.
        """
        from presidio_analyzer import RecognizerResult

        key = RecognizerResult.RECOGNIZER_IDENTIFIER_KEY
        enhancer = self._enhancer
        factor, floor = enhancer.context_similarity_factor, enhancer.min_score_with_context_similarity
        want = enhancer.context_prefix_count + 1
        whole = enhancer.context_matching_mode == "whole_word"
        for r in w.results:
            if r.score >= self.score_threshold:
                continue  # a context word cannot change whether this one passes
            rec = self._by_id.get(r.recognition_metadata.get(key))
            if rec is None or not rec.context:
                continue
            words = _keywords_before(w.text, r.start, want)
            context = [c.lower() for c in rec.context]
            if any((c == kw) if whole else (c in kw) for c in context for kw in words):
                r.score = min(1.0, max(r.score + factor, floor))

    # ---- stage 3: threshold, overlaps, findings -----------------------------------------------------
    def _finish(self, results: list[Any]) -> list[Finding]:
        from presidio_analyzer import EntityRecognizer, RecognizerResult

        kept = EntityRecognizer.remove_duplicates([r for r in results if r.score >= self.score_threshold])
        out = []
        for r in kept:
            kind = r.entity_type
            kind = f"secret:{kind[len(ENTITY_PREFIX):]}" if kind.startswith(ENTITY_PREFIX) else f"pii:{kind}"
            meta = r.recognition_metadata or {}
            detector = str(meta.get(RecognizerResult.RECOGNIZER_NAME_KEY, self.name))
            out.append(Finding(detector=detector, kind=kind, start=r.start, end=r.end, score=float(r.score)))
        return out


# ---- helpers --------------------------------------------------------------------------------------
# Characters before a result where a context word is looked for without spaCy (Presidio looks at the
# five non-stop-word lemmas before it, which in running text lie well within this).
_CONTEXT_WINDOW = 400


def _stem(word: str, escape: bool = True) -> str:
    """A context word as it can appear in the surface form its lemma came from.

    English lemmas change only a word's ending: "phoning" gives the lemma "phone", so "phon" is what
    must occur in the text for the lemma to contain "phone".
    """
    w = word.lower()
    w = w[:-1] if w.endswith("e") and len(w) > 3 else w
    return "".join("\\" + c if escape and not c.isalnum() else c for c in w)


def _stems(words: Sequence[str]) -> Any:
    return compile_linear("|".join(_stem(w) for w in words), ignore_case=True)


def _shape(pattern: str) -> tuple[int | None, bool]:
    """(longest match, or None if unbounded; whether no match can hold a line break) of an RE2 pattern.

    Read off the pattern's parse tree (Python's parser reads the RE2 subset we produce); anything it
    cannot read is taken as unbounded and able to cross lines, which only makes searches wider.
    """
    try:
        c = importlib.import_module("re._constants")
        p = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - Python 3.10
        c = importlib.import_module("sre_constants")
        p = importlib.import_module("sre_parse")
    try:
        tree = p.parse(pattern.replace(r"\z", r"\Z"))
    except Exception:  # any parse failure means "unknown"
        return None, False
    dotall = bool(tree.state.flags & c.SRE_FLAG_DOTALL)
    spacey = {c.CATEGORY_SPACE, c.CATEGORY_NOT_DIGIT, c.CATEGORY_NOT_WORD, c.CATEGORY_LINEBREAK}

    def in_set(items: Any) -> bool:
        hit, negate = False, False
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                hit = hit or av == 10
            elif op is c.RANGE:
                hit = hit or av[0] <= 10 <= av[1]
            elif op is c.CATEGORY:
                hit = hit or av in spacey
            else:
                return True
        return hit != negate

    def crosses(items: Any) -> bool:
        for op, av in items:
            if op is c.LITERAL:
                if av == 10:
                    return True
            elif op is c.NOT_LITERAL:
                if av != 10:
                    return True
            elif op is c.ANY:
                if dotall:
                    return True
            elif op is c.IN:
                if in_set(av):
                    return True
            elif op is c.SUBPATTERN:
                if crosses(av[-1]):
                    return True
            elif op is c.BRANCH:
                if any(crosses(b) for b in av[1]):
                    return True
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                if crosses(av[2]):
                    return True
            elif op is not c.AT:
                return True
        return False

    _, most = tree.getwidth()
    return (None if most >= c.MAXREPEAT else int(most)), not crosses(tree)


def _keywords_before(text: str, start: int, want: int) -> list[str]:
    """The lower-cased words Presidio's context rule looks at, nearest first: the word ``start`` is in,
    then the words before it, skipping stop words, punctuation and "be", until ``want`` are found."""
    stop = _stop_words()
    out: list[str] = []
    lo = max(0, start - _CONTEXT_WINDOW)
    end = start
    while end < len(text) and end - start < 64 and _is_word_char(text[end]):
        end += 1
    for chunk in reversed(text[lo:max(end, start + 1)].split()):
        for tok in reversed(_split_punct(chunk)):
            low = tok.lower()
            if low in stop or low == "be" or (len(tok) == 1 and _is_punct(tok)):
                continue
            out.append(low)
            if len(out) >= want:
                return out
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _split_punct(chunk: str) -> list[str]:
    """A blank-free chunk as words (runs of word characters) and single other characters."""
    if chunk.isalnum():
        return [chunk]
    out: list[str] = []
    word = ""
    for ch in chunk:
        if _is_word_char(ch):
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(ch)
    if word:
        out.append(word)
    return out


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=4096)
def _is_punct(ch: str) -> bool:
    """spaCy's is_punct for one character: a Unicode punctuation category."""
    import unicodedata

    return unicodedata.category(ch).startswith("P")


@lru_cache(maxsize=1)
def _blas_controller() -> Any:
    try:
        threadpoolctl = importlib.import_module("threadpoolctl")
    except ImportError:
        return None
    return threadpoolctl.ThreadpoolController()


def _one_blas_thread() -> AbstractContextManager[Any]:
    """One BLAS thread while spaCy runs, when threadpoolctl is there to set it.

    The matrices here are small (a batch of sentences by 288 columns); a second OpenBLAS thread
    gained a quarter on an idle machine and lost a third whenever the other core was busy.
    """
    controller = _blas_controller()
    if controller is None:
        return nullcontext()
    return cast(AbstractContextManager[Any], controller.limit(limits=1, user_api="blas"))


def _prefer_numpy_gemm(nlp: Any) -> None:
    """Matrix products through numpy's BLAS rather than thinc's bundled blis.

    ``NumpyOps(use_blis=False)`` is thinc's own switch. It changes no entity or lemma on the benchmark
    sentences and about halves NER time where we measured: the bundled blis ran at a third of
    OpenBLAS's single-thread speed on these matrix shapes.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    for _, proc in nlp.pipeline:
        model = getattr(proc, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if type(node.ops).__name__ == "NumpyOps":
                node.ops = ops


__all__ = ["FastPiiDetector", "Translation", "fold", "translate"]
