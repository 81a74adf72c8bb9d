"""Copies of protected values leaving: canary tokens and fingerprints of confidential text.

Both compare in the compact canonical form (``ctxguard.detect.canonical.compact``: confusables folded,
invisible characters dropped, case folded, separators removed), because a copy that leaves is rarely
byte-identical: a zero-width space inside a canary, the token upper-cased or in full-width letters, a
confidential sentence with look-alike letters. A canary is also looked for inside decoded payloads
(base64, hex, URL and the other encodings ``detect.decode`` reads) and reversed or in rot13.

A copy of confidential context is found by fingerprints: hashes of 32-character windows of the compact
form, taken every 8 characters, so any copy of 39 or more compact characters (about 45 characters of
prose) contains at least one whole window.
"""

from __future__ import annotations

import codecs
import hashlib
import threading
from collections.abc import Sequence
from urllib.parse import unquote_plus

from ..decision import Finding
from ..detect.canonical import compact
from ..detect.decode import decoded_spans

WINDOW = 32
STRIDE = 8
MIN_CANARY_CHARS = 6  # a shorter compact canary would match ordinary words


def _views(text: str) -> list[tuple[str, int, int]]:
    """(compact text, start, end) of every form a canary may hide in: the text, each decoded payload,
    and the whole text reversed and in rot13."""
    c = compact(text)
    views = [(c, 0, len(text)), (c[::-1], 0, len(text)), (codecs.encode(c, "rot13"), 0, len(text))]
    for span in decoded_spans(text, max_depth=2, max_total_bytes=64_000, max_spans=32):
        views.append((compact(span.text), span.start, span.end))
    return views


def canary_findings(text: str, canaries: Sequence[str], field: str = "") -> list[Finding]:
    out = []
    views: list[tuple[str, int, int]] | None = None
    for c in canaries:
        i = text.find(c)
        if i >= 0:
            while i >= 0:
                out.append(Finding("canary", "exfil:canary", i, i + len(c), 1.0, field=field))
                i = text.find(c, i + 1)
            continue
        key = compact(c)
        if len(key) < MIN_CANARY_CHARS:
            continue
        if views is None:
            views = _views(text)
        for view, start, end in views:
            if key in view:
                out.append(Finding("canary", "exfil:canary", start, end, 1.0, field=field))
                break
    return out


def _form(text: str) -> str:
    if "%" in text or "+" in text:
        text = unquote_plus(text)
    return compact(text)


def _h(s: str) -> bytes:
    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class Fingerprints:
    """Window hashes of confidential segments, to spot verbatim copies leaving through a tool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: set[bytes] = set()

    def add(self, text: str) -> None:
        f = _form(text)
        new = {_h(f[i:i + WINDOW]) for i in range(0, max(len(f) - WINDOW + 1, 0), STRIDE)}
        with self._lock:
            self._hashes |= new

    def copies_in(self, text: str) -> bool:
        with self._lock:
            if not self._hashes:
                return False
            hashes = self._hashes
            f = _form(text)
            return any(_h(f[i:i + WINDOW]) in hashes for i in range(0, len(f) - WINDOW + 1))
