"""Reversible pseudonyms: the same value gets the same token within one vault (one tenant+session).

The model sees ``<EMAIL_ADDRESS_1>``; the real value is put back only where the policy allows it.
A token the vault never issued is not resolved: a model (or an injection) that invents
``<EMAIL_ADDRESS_7>`` gets nothing back. In memory only for now; see issue 4 for persistence.
"""

from __future__ import annotations

import threading
from typing import Any

from .._patterns import compile_linear

_TOKEN = compile_linear(r"<([A-Z][A-Z0-9_]{0,40})_(\d{1,9})>")


class PseudonymVault:
    """Thread-safe map value <-> token, scoped to one tenant and session by construction."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_token: dict[str, str] = {}
        self._counters: dict[str, int] = {}

    def token_for(self, entity: str, value: str) -> str:
        key = (entity, value)
        with self._lock:
            tok = self._by_value.get(key)
            if tok is None:
                n = self._counters.get(entity, 0) + 1
                self._counters[entity] = n
                tok = f"<{entity}_{n}>"
                self._by_value[key] = tok
                self._by_token[tok] = value
            return tok

    def value_for(self, token: str) -> str | None:
        with self._lock:
            return self._by_token.get(token)

    def restore(self, text: str) -> tuple[str, int, int]:
        """Put real values back for tokens this vault issued. Returns (text, restored, refused)."""
        restored = refused = 0

        def sub(m: Any) -> str:
            nonlocal restored, refused
            value = self.value_for(m.group(0))
            if value is None:
                refused += 1
                return str(m.group(0))
            restored += 1
            return value

        out: str = _TOKEN.sub(sub, text)
        return out, restored, refused

    def __len__(self) -> int:
        with self._lock:
            return len(self._by_token)
