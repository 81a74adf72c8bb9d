"""Copies of protected values leaving: canary tokens and fingerprints of confidential text.

A copy of confidential context is found by fingerprints: hashes of 40-character windows taken every
10 characters of each confidential segment, so any copy of 50 or more characters contains at least
one whole window.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence

from ..decision import Finding
from .provenance import fold

WINDOW = 40
STRIDE = 10


def canary_findings(text: str, canaries: Sequence[str], field: str = "") -> list[Finding]:
    out = []
    for c in canaries:
        i = text.find(c)
        while i >= 0:
            out.append(Finding("canary", "exfil:canary", i, i + len(c), 1.0, field=field))
            i = text.find(c, i + 1)
    return out


def _h(s: str) -> bytes:
    return hashlib.blake2b(s.encode("utf-8", "surrogatepass"), digest_size=8).digest()


class Fingerprints:
    """Window hashes of confidential segments, to spot verbatim copies leaving through a tool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hashes: set[bytes] = set()

    def add(self, text: str) -> None:
        f = fold(text)
        new = {_h(f[i:i + WINDOW]) for i in range(0, max(len(f) - WINDOW + 1, 0), STRIDE)}
        with self._lock:
            self._hashes |= new

    def copies_in(self, text: str) -> bool:
        with self._lock:
            if not self._hashes:
                return False
            hashes = self._hashes
            f = fold(text)
            return any(_h(f[i:i + WINDOW]) in hashes for i in range(0, len(f) - WINDOW + 1))
