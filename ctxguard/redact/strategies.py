"""Apply redaction strategies to spans of text.

Overlapping findings (Presidio reports an e-mail address also as a URL) are resolved before
rewriting: the longer span wins, then the stronger strategy, so a value is never half-replaced.
Replacements are built right to left in one pass, so offsets stay valid.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from ..policy.schema import Strategy
from .vault import PseudonymVault

_STRENGTH = {
    Strategy.ALLOW: 0, Strategy.MASK: 1, Strategy.PSEUDONYMIZE: 2, Strategy.HASH: 3, Strategy.REDACT: 4,
    Strategy.BLOCK: 5,
}


@dataclass(frozen=True, slots=True)
class Edit:
    start: int
    end: int
    entity: str
    strategy: Strategy


def resolve_overlaps(edits: Sequence[Edit]) -> list[Edit]:
    """Non-overlapping edits, preferring longer spans, then stronger strategies."""
    ranked = sorted(edits, key=lambda e: (-(e.end - e.start), -_STRENGTH[e.strategy], e.start))
    chosen: list[Edit] = []
    for e in ranked:
        if all(e.end <= c.start or e.start >= c.end for c in chosen):
            chosen.append(e)
    return sorted(chosen, key=lambda e: e.start)


def keyed_hash(key: bytes, value: str, length: int = 16) -> str:
    return hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:length]


def mask(value: str) -> str:
    """Hide every letter and digit but keep separators and the last four digits of long numbers."""
    digits = sum(c.isdigit() for c in value)
    keep_from = len(value)
    if digits >= 12:
        seen = 0
        for i in range(len(value) - 1, -1, -1):
            if value[i].isdigit():
                seen += 1
                if seen == 4:
                    keep_from = i
                    break
    return "".join(c if (i >= keep_from or not c.isalnum()) else "*" for i, c in enumerate(value))


def apply(
    text: str,
    edits: Sequence[Edit],
    *,
    hash_key: bytes,
    hash_length: int = 8,
    vault: PseudonymVault | None = None,
) -> str:
    parts: list[str] = []
    pos = 0
    for e in resolve_overlaps([e for e in edits if e.strategy not in (Strategy.ALLOW, Strategy.BLOCK)]):
        value = text[e.start:e.end]
        parts.append(text[pos:e.start])
        if e.strategy is Strategy.REDACT:
            parts.append(f"<{e.entity}>")
        elif e.strategy is Strategy.MASK:
            parts.append(mask(value))
        elif e.strategy is Strategy.HASH:
            parts.append(f"<{e.entity}:{keyed_hash(hash_key, value, hash_length)}>")
        elif e.strategy is Strategy.PSEUDONYMIZE:
            if vault is None:
                parts.append(f"<{e.entity}>")
            else:
                parts.append(vault.token_for(e.entity, value))
        pos = e.end
    parts.append(text[pos:])
    return "".join(parts)
