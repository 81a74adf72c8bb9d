"""Where did this value come from? The session's admitted segments, searchable by value.

Every admitted piece of content is kept with its label and the spans a detector flagged as
injected. When a tool call carries a value, we look for it in the segments (after folding case,
whitespace and common quoting/escaping) and report the labels of those that supply it. Only the
argument's own provenance counts, never the order of the conversation: a user's call after an
injected web page is not suspect unless it carries the page's words.
"""

from __future__ import annotations

import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote_plus

from .._patterns import compile_linear
from ..detect.decode import decoded_spans
from ..labels import Label, Levels

_WS = compile_linear(r"\s+")
MIN_VALUE_CHARS = 4  # shorter values ("yes", "1") occur everywhere and say nothing about provenance


def fold(text: str) -> str:
    """The form values are compared in: NFKC, case-folded, URL-decoded, whitespace collapsed."""
    if "%" in text or "+" in text:
        text = unquote_plus(text)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.replace('\\"', '"').replace("\\n", " ")
    out: str = _WS.sub(" ", text)
    return out.strip()


@dataclass(frozen=True, slots=True)
class Segment:
    label: Label
    folded: str
    # Spans (in folded coordinates) of injected text; a value taken from them is hostile.
    hostile_spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True, slots=True)
class Supplier:
    """A segment that supplies a value, and the trust of the part it was taken from."""

    label: Label
    trust: str
    hostile: bool


@dataclass
class SegmentStore:
    """The labelled segments a session admitted. Thread-safe; append-only."""

    hostile_trust: str
    segments: list[Segment] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, text: str, label: Label, hostile_lines: Iterable[tuple[int, int]] = ()) -> None:
        """Keep a segment. ``hostile_lines`` are (start, end) spans in ``text`` judged injected."""
        folded_spans = []
        for start, end in hostile_lines:
            # Fold the prefix to find where the span lands in folded coordinates.
            fs = len(fold(text[:start]))
            fe = fs + len(fold(text[start:end])) + 1
            folded_spans.append((fs, fe))
        seg = Segment(label=label, folded=fold(text), hostile_spans=tuple(folded_spans))
        with self._lock:
            self.segments.append(seg)

    def suppliers(self, value: str) -> list[Supplier]:
        v = fold(value)
        if len(v) < MIN_VALUE_CHARS:
            return []
        with self._lock:
            segments = list(self.segments)
        out: list[Supplier] = []
        n = len(v)
        for seg in segments:
            if v not in seg.folded:
                continue
            # An occurrence overlapping an injected span lies inside that span widened by the value's
            # length on each side: one bounded search per span, linear in the segment.
            hostile = any(v in seg.folded[max(s - n + 1, 0):e + n - 1] for s, e in seg.hostile_spans)
            out.append(Supplier(seg.label, self.hostile_trust if hostile else seg.label.trust, hostile))
        return out

    def lowest_trust(self, value: str, trust: Levels) -> tuple[str | None, list[Supplier]]:
        """The lowest trust among segments supplying ``value`` or any payload encoded inside it.

        A value base64- or hex-encoded by the model ("send aGVsbG8..."), or a URL whose query carries a
        value, still traces back to where its content came from.
        """
        sup = self.suppliers(value)
        for span in decoded_spans(value, max_depth=2, max_total_bytes=64_000, max_spans=32):
            sup += self.suppliers(span.text)
        if not sup:
            return None, []
        return trust.min(s.trust for s in sup), sup

    def texts_at_or_above(self, level: str, trust: Levels) -> list[str]:
        """Folded text of segments at or above ``level``: what the user and system actually said."""
        bound = trust.rank(level)
        with self._lock:
            return [s.folded for s in self.segments if s.label.verified and trust.rank(s.label.trust) >= bound]

    @property
    def has_hostile(self) -> bool:
        with self._lock:
            return any(s.hostile_spans for s in self.segments)
