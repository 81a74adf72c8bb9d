"""Many patterns in one Hyperscan pass: the prefilter the secrets and PII detectors share.

Both detectors use Hyperscan the same way: compile every expression of a catalogue into one block
database; when some expression is beyond Hyperscan, find which by compiling each alone (trying the
flag variants given, e.g. exact then PREFILTER), keep the rest in the database and report the ones
left out, which the caller then runs with RE2 everywhere. A scan reports (id, start, end) to the
caller's handler, with one scratch space per thread. Hyperscan is optional: ``load_hyperscan``
returns None without it, and both detectors then run every pattern with RE2.

Each detector still scans its own byte image: PII's patterns read the ASCII image of the text
(``ascii_fold``), where every non-ASCII character stands in for one of its class, and the secrets'
read UTF-8 and use the match ends to size their confirmation windows. One scan of one image cannot
serve both without changing what either matches (on the fold a non-ASCII letter is a word
character, which moves word boundaries the secrets' patterns rely on).
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[int, int, int, int, Any], "bool | None"]


def load_hyperscan() -> Any:
    """The hyperscan module, or None when it is not installed (not every platform has a wheel)."""
    try:
        return importlib.import_module("hyperscan")
    except ImportError:
        return None


class HyperscanSet:
    """One compiled database over a set of expressions, and what could not go into it."""

    def __init__(self, hs: Any, db: Any, left_out: frozenset[int]) -> None:
        self.hs = hs
        self._db = db
        self.left_out = left_out  # ids the database does not cover: the caller runs them everywhere
        self._local = threading.local()

    @classmethod
    def build(cls, hs: Any, exprs: Sequence[bytes], ids: Sequence[int],
              flag_options: Sequence[Sequence[int]]) -> HyperscanSet | None:
        """Compile ``exprs`` (with ``ids``), each with the first of its ``flag_options`` Hyperscan
        accepts; None when no expression compiles. All in one go when possible (the usual case)."""
        def compile_db(keep: list[int], flags: list[int]) -> Any:
            db = hs.Database(mode=hs.HS_MODE_BLOCK)
            db.compile(expressions=[exprs[k] for k in keep], ids=[ids[k] for k in keep], elements=len(keep),
                       flags=flags)
            return db

        everything = list(range(len(exprs)))
        if not everything:
            return None
        try:
            return cls(hs, compile_db(everything, [flag_options[k][0] for k in everything]), frozenset())
        except hs.error:
            pass
        keep: list[int] = []
        chosen: list[int] = []
        for k in everything:
            for flag in flag_options[k]:
                try:
                    compile_db([k], [flag])
                except hs.error:
                    continue
                keep.append(k)
                chosen.append(flag)
                break
        left_out = frozenset(ids[k] for k in everything if k not in set(keep))
        if not keep:
            return None
        return cls(hs, compile_db(keep, chosen), left_out)

    def scan(self, data: bytes, handler: Handler) -> bool:
        """Report every match to ``handler``; False when the handler stopped the scan (returned True)."""
        scratch = getattr(self._local, "scratch", None)
        if scratch is None:
            scratch = self._local.scratch = self.hs.Scratch(self._db)
        try:
            self._db.scan(data, match_event_handler=handler, scratch=scratch)
        except self.hs.ScanTerminated:
            return False
        return True
