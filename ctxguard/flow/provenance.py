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
from ..detect.canonical import collapse_spaces, compact
from ..detect.decode import decoded_spans
from ..labels import Label, Levels

MIN_VALUE_CHARS = 4  # shorter values ("yes", "1") occur everywhere and say nothing about provenance


def fold(text: str) -> str:
    """The form values are compared in: NFKC, case-folded, URL-decoded, whitespace collapsed."""
    if "%" in text or "+" in text:
        text = unquote_plus(text)
    text = text.lower() if text.isascii() else unicodedata.normalize("NFKC", text).casefold()
    text = text.replace('\\"', '"').replace("\\n", " ")
    return collapse_spaces(text)


# Identifiers inside a longer value, compared without their separators: IBANs, account, card and phone
# numbers, e-mail addresses, long tokens with digits (wallets, references). An attacker's IBAN comes
# back from a model without its spaces, or inside a sentence; whole-value matching misses both.
_ENTITY = compile_linear(
    r"[A-Za-z]{2}\d{2}(?:[ \-]?[A-Za-z0-9]){10,30}"
    r"|[\w.+\-]{1,64}@[\w\-]{1,63}(?:\.[\w\-]{1,63}){1,10}"
    r"|\+?\d[\d \-./()]{6,40}\d"
    r"|\b[A-Za-z0-9]*\d[A-Za-z0-9]*[A-Za-z][A-Za-z0-9]{8,}\b"
)
MIN_ENTITY_CHARS = 8


def is_identifier(value: str) -> bool:
    """The whole value is one identifier (an IBAN, an account or card number, an address)."""
    keys = entity_keys(value)
    return len(keys) == 1 and keys[0] == compact(value)


def entity_keys(value: str) -> list[str]:
    """The compact forms of the identifiers inside ``value`` (see ``_ENTITY``), long enough to mean something."""
    keys = {compact(m.group()) for m in _ENTITY.finditer(value)}
    return [k for k in keys if len(k) >= MIN_ENTITY_CHARS]


def _identifier_kind(value: str) -> str:
    """address, iban, number or token: the kinds a value is the only one of in "pay the bill"."""
    v = value.strip()
    if "@" in v:
        return "address"
    c = compact(v)
    if len(c) >= 4 and c[:2].isalpha() and c[2:4].isdigit():
        return "iban"
    return "number" if c.isdigit() else "token"


@dataclass(frozen=True, slots=True)
class Segment:
    label: Label
    folded: str
    # Spans (in folded coordinates) of injected text; a value taken from them is hostile.
    hostile_spans: tuple[tuple[int, int], ...] = ()
    # The compact form (letters and digits only) and the injected spans in its coordinates.
    compact: str = ""
    compact_hostile: tuple[tuple[int, int], ...] = ()
    # The segment's own identifiers (compact form) and whether each sits in an injected span: found
    # inside a longer argument even when the argument's own identifier pattern reads it differently.
    entities: tuple[tuple[str, bool], ...] = ()
    entity_kinds: tuple[str, ...] = ()  # _identifier_kind of each entity, in the same order
    text: str = ""  # as written, for parsing trusted instructions


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
        compact_spans = []
        for start, end in hostile_lines:
            # Fold the prefix to find where the span lands in folded coordinates.
            fs = len(fold(text[:start]))
            fe = fs + len(fold(text[start:end])) + 1
            folded_spans.append((fs, fe))
            cs = len(compact(text[:start]))
            compact_spans.append((cs, cs + len(compact(text[start:end]))))
        raw_spans = list(hostile_lines)
        entities: dict[str, bool] = {}
        kinds: dict[str, str] = {}
        for m in _ENTITY.finditer(text):
            key = compact(m.group())
            if len(key) >= MIN_ENTITY_CHARS:
                inside = any(s <= m.start() < e for s, e in raw_spans)
                entities[key] = entities.get(key, False) or inside
                kinds.setdefault(key, _identifier_kind(m.group()))
        seg = Segment(label=label, folded=fold(text), hostile_spans=tuple(folded_spans), compact=compact(text),
                      compact_hostile=tuple(compact_spans), entities=tuple(entities.items()),
                      entity_kinds=tuple(kinds[k] for k in entities), text=text)
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

    def entity_suppliers(self, value: str) -> list[Supplier]:
        """Segments supplying an identifier found inside ``value``, compared separator-insensitively."""
        keys = entity_keys(value)
        cv = compact(value)
        if len(cv) < MIN_ENTITY_CHARS:
            return []
        with self._lock:
            segments = list(self.segments)
        out: list[Supplier] = []
        for seg in segments:
            for key, hostile in seg.entities:
                if key in cv:
                    out.append(Supplier(seg.label, self.hostile_trust if hostile else seg.label.trust, hostile))
            for k in keys:
                if k not in seg.compact:
                    continue
                n = len(k)
                hostile = any(k in seg.compact[max(s - n + 1, 0):e + n - 1] for s, e in seg.compact_hostile)
                out.append(Supplier(seg.label, self.hostile_trust if hostile else seg.label.trust, hostile))
        return out

    def lowest_trust(self, value: str, trust: Levels) -> tuple[str | None, list[Supplier]]:
        """The lowest trust among segments supplying ``value`` or any payload encoded inside it.

        A value base64- or hex-encoded by the model ("send aGVsbG8..."), or a URL whose query carries a
        value, still traces back to where its content came from.
        """
        sup = self.suppliers(value) + self.entity_suppliers(value)
        for span in decoded_spans(value, max_depth=2, max_total_bytes=64_000, max_spans=32):
            sup += self.suppliers(span.text)
        if not sup:
            return None, []
        return trust.min(s.trust for s in sup), sup

    def windows(self, value: str, reach: int = 300) -> list[tuple[Label, str]]:
        """The folded text a value was said next to in each segment supplying it: its own line (within
        ``reach`` characters each side), not the whole e-mail. Found as written, else folded (no lines
        left there), else in the compact form."""
        v = fold(value)
        if len(v) < MIN_VALUE_CHARS:
            return []
        cv = compact(value)
        needle = value.casefold().strip()
        with self._lock:
            segments = list(self.segments)
        out: list[tuple[Label, str]] = []
        for seg in segments:
            raw = seg.text.casefold()
            if (r := raw.find(needle)) >= 0:
                ls = max(raw.rfind("\n", 0, r) + 1, r - reach)
                le = raw.find("\n", r + len(needle))
                le = r + len(needle) + reach if le < 0 else min(le, r + len(needle) + reach)
                out.append((seg.label, fold(raw[ls:le])))
            elif (i := seg.folded.find(v)) >= 0:
                out.append((seg.label, seg.folded[max(0, i - reach):i + len(v) + reach]))
            elif len(cv) >= MIN_ENTITY_CHARS and (j := seg.compact.find(cv)) >= 0:
                out.append((seg.label, seg.compact[max(0, j - reach):j + len(cv) + reach]))
        return out

    def sole_in(self, value: str, words: Iterable[str]) -> list[Label]:
        """Labels of segments that mention one of ``words`` and hold ``value`` as their only identifier
        of its kind outside injected lines (its only e-mail address, its only IBAN-shaped or
        number-shaped identifier): "pay the bill" points to the one account on the bill, not to one
        of two."""
        key = compact(value)
        words = [fold(w) for w in words if len(w) >= 3]
        if len(key) < MIN_ENTITY_CHARS or not words:
            return []
        kind = _identifier_kind(value)
        with self._lock:
            segments = list(self.segments)
        out: list[Label] = []
        for seg in segments:
            if key not in seg.compact or not any(w in seg.folded for w in words):
                continue
            # Identifiers inside injected lines are the attacker's, not candidates: "pay the bill" still
            # points to the bill's own IBAN when an injected line adds another one.
            # An entity's compact form may run on into the next word ("...4931byapril2"): containment
            # in either direction is the same identifier.
            if any(hostile and (key in k or k in key) for k, hostile in seg.entities):
                continue
            others = {k for (k, hostile), k_kind in zip(seg.entities, seg.entity_kinds, strict=True)
                      if not hostile and k_kind == kind and key not in k and k not in key}
            if not others:
                out.append(seg.label)
        return out

    def raw_texts_at_or_above(self, level: str, trust: Levels) -> list[str]:
        """The text as written (not folded) of verified segments at or above ``level``: for parsing."""
        bound = trust.rank(level)
        with self._lock:
            return [s.text for s in self.segments if s.label.verified and trust.rank(s.label.trust) >= bound]

    def has_at_or_below(self, level: str, trust: Levels) -> bool:
        """Whether any segment at or below ``level`` (untrusted content) is in the session's context."""
        bound = trust.rank(level)
        with self._lock:
            return any(trust.rank(s.label.trust) <= bound for s in self.segments)

    def texts_at_or_above(self, level: str, trust: Levels) -> list[str]:
        """Folded text of segments at or above ``level``: what the user and system actually said."""
        bound = trust.rank(level)
        with self._lock:
            return [s.folded for s in self.segments if s.label.verified and trust.rank(s.label.trust) >= bound]

    @property
    def has_hostile(self) -> bool:
        with self._lock:
            return any(s.hostile_spans for s in self.segments)
