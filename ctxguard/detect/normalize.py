"""Normalisation before detection, keeping a map back to the original offsets.

Attackers hide secrets and instructions from pattern matchers with full-width letters, ligatures,
zero-width joiners and bidi overrides. Detectors run on the NFKC form with invisible characters
removed; each normalised character remembers the original index it came from, so a finding is
reported (and redacted) at the right place in the text the caller actually holds.

Per-character NFKC differs from whole-string NFKC only for composing sequences, which matter for
display, not for the ASCII-shaped tokens detectors look for; it is what makes offsets exact.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Zero-width, joiners, word joiner, BOM, soft hyphen, bidi embeddings/overrides/isolates, tag chars
# are handled below by category "Cf" (format) which covers all of these.
_DROP_CATEGORIES = frozenset({"Cf"})


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    # offsets[i] = index in the original of normalised character i; offsets[len(text)] = len(original)
    offsets: tuple[int, ...] | None
    hidden_chars: int = 0

    def to_original(self, start: int, end: int) -> tuple[int, int]:
        if self.offsets is None:
            return start, end
        o = self.offsets
        if end <= start:
            return o[start], o[start]
        # end maps to one past the original index of the last character in the span.
        return o[start], o[end - 1] + 1


def normalize(text: str) -> Normalized:
    """NFKC plus removal of invisible format characters, with an offset map (None when unchanged)."""
    if text.isascii():
        return Normalized(text, None)
    out: list[str] = []
    offsets: list[int] = []
    hidden = 0
    for i, ch in enumerate(text):
        if ch.isascii():
            out.append(ch)
            offsets.append(i)
            continue
        if unicodedata.category(ch) in _DROP_CATEGORIES:
            hidden += 1
            continue
        n = unicodedata.normalize("NFKC", ch)
        out.append(n)
        offsets.extend([i] * len(n))
    offsets.append(len(text))
    return Normalized("".join(out), tuple(offsets), hidden)
