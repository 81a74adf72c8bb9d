"""A bounded cache for functions of a short string (tool names, argument paths, sources).

A decision reads the same few names many times (policy lookups, rules, authorisation, the audit
record); the answers are pure functions of the name. Only names up to ``max_chars`` are remembered,
so a hostile caller sending long or ever-new names neither grows memory past ``maxsize`` entries of
that size nor evicts the useful ones with one giant key; longer names are computed each time.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def short_string_cache(max_chars: int, maxsize: int = 4096) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """Decorator: remember ``fn(text)`` for texts of at most ``max_chars`` characters. ``fn`` must be
    pure and return an immutable value (callers share it)."""
    def wrap(fn: Callable[[str], T]) -> Callable[[str], T]:
        cached = functools.lru_cache(maxsize=maxsize)(fn)

        @functools.wraps(fn)
        def call(text: str) -> T:
            return cached(text) if len(text) <= max_chars else fn(text)

        return call

    return wrap
