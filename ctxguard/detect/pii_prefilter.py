"""One Hyperscan pass that says which recognizers can match a text at all (segment by segment on
large texts)."""

from __future__ import annotations

import threading
from typing import Any

from .pii_plans import _PHONE_RUN, _RecognizerPlan

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
