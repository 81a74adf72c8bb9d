"""How each Presidio recognizer is driven: its patterns, context gates and phone-number readings."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .ascii_fold import _regex


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
