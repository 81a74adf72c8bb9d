"""One Hyperscan pass that says which recognizers can match a text at all (segment by segment on
large texts)."""

from __future__ import annotations

from typing import Any

from .hyperscan_set import HyperscanSet, load_hyperscan
from .pii_plans import _PHONE_RUN, _RecognizerPlan

_PREFILTER_MAX = 64 << 10  # longer texts are checked segment by segment
_SEGMENT = 16 << 10
_PREFILTER_PATTERN_MAX = 2000
_PHONE_ID = 1 << 20  # the prefilter id of the phone-number run pattern


class _Prefilter:
    """One Hyperscan pass that says which recognizers can match a text at all.

    Compiled in Hyperscan's prefilter mode, each expression matches a superset of what its RE2
    pattern matches, so a recognizer left out cannot have matched. Hyperscan is optional: without
    it (or for a pattern it cannot take) every pattern simply runs. The database is the shared
    ``HyperscanSet`` the secrets detector also uses.
    """

    def __init__(self, patterns: HyperscanSet, always: frozenset[int]) -> None:
        self._set = patterns
        self._always = always

    @classmethod
    def build(cls, plans: list[_RecognizerPlan], phone: bool) -> _Prefilter | None:
        hs = load_hyperscan()
        if hs is None:
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
        patterns = HyperscanSet.build(hs, exprs, ids, [(f,) for f in flags])
        # An expression Hyperscan cannot take leaves its recognizer to RE2 on every text.
        if patterns is None or _PHONE_ID in patterns.left_out:
            return None
        return cls(patterns, frozenset(always | patterns.left_out))

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
        found = set(self._always)

        def on_match(rule: int, _start: int, _end: int, _flags: int, _ctx: Any) -> None:
            found.add(rule)

        self._set.scan(data, on_match)
        return found
