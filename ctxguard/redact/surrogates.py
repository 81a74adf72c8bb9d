"""Realistic stand-ins for personal values, for prompts where ``<PERSON_1>`` would confuse the model.

A model drafting a letter or reasoning about who said what does better with ``Dana Whitfield`` than
with a placeholder. The danger is a stand-in that is somebody's real data, so every kind comes from
a range set aside for fiction or documentation: telephone numbers in 555-0100..0199 (NANP's fictional
block), addresses and URLs at example.com/.net/.org (RFC 2606), IP addresses in TEST-NET (RFC 5737).
Names and places come from short built-in lists and can coincide with real ones; that is why the vault
refuses any stand-in equal to a real value it has seen in the scope and asks for another attempt.

The generator is deterministic: the vault seeds it with the keyed digest of the value, so the same
value gets the same stand-in within a scope, and the stand-in says nothing about the value without the
key. Every stand-in starts and ends with an ASCII letter or digit, so restoring can match it as a whole
word. Kinds not listed here keep ``<ENTITY_N>`` tokens.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

_FIRST = (
    "Avery", "Blake", "Cameron", "Dana", "Eden", "Finley", "Gray", "Harper", "Indra", "Jordan",
    "Kai", "Logan", "Morgan", "Noel", "Oakley", "Parker", "Quinn", "Reese", "Sasha", "Taylor",
    "Uma", "Val", "Wren", "Yael", "Ari", "Bela", "Cruz", "Dev", "Elio", "Frankie",
    "Gale", "Hollis", "Ira", "Jules", "Kendall", "Lane", "Marlo", "Nico", "Ollie", "Peyton",
    "Rowan", "Sage", "Tatum", "Rory", "Emery", "Ellis", "Hayden", "Micah",
)
_LAST = (
    "Abernathy", "Bellamy", "Castellano", "Delacroix", "Ellsworth", "Fairbanks", "Galloway", "Hawthorne",
    "Ingram", "Jessup", "Kingsley", "Lockhart", "Merriweather", "Northcott", "Okafor", "Pemberton",
    "Quimby", "Rutherford", "Stanhope", "Thackeray", "Underhill", "Vance", "Whitfield", "Yardley",
    "Ashdown", "Brightwater", "Carrow", "Dunmore", "Everly", "Fennimore", "Greaves", "Halloway",
    "Ivers", "Jameson", "Kettering", "Larkspur", "Marchetti", "Nakamura", "Oyelaran", "Prescott",
    "Ramsay", "Silvestri", "Tremaine", "Vasquez", "Wexley", "Zielinski", "Holloway", "Lindqvist",
)
_PLACE_HEAD = (
    "North", "South", "East", "West", "Glen", "Lake", "Port", "Fair", "Green", "Oak",
    "Maple", "Cedar", "Brook", "Stone", "Ash", "Elm", "Pine", "River", "Clear", "Silver",
)
_PLACE_TAIL = (
    "field", "ford", "ton", "ville", "wood", "dale", "haven", "bridge", "mont", "view",
    "water", "ridge", "stead", "bury", "minster", "crest",
)
_PLACE_SUFFIX = ("Falls", "Heights", "Springs", "Junction", "Harbor", "Hills", "Crossing", "Park")
_RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
_TEST_NETS = ("192.0.2", "198.51.100", "203.0.113")
_URL_WORDS = ("docs", "account", "profile", "share", "files", "team", "orders", "notes")


class _Draw:
    """Numbers drawn from one seed, attempt by attempt; a different attempt gives unrelated draws."""

    def __init__(self, seed: bytes, attempt: int) -> None:
        self._pool = int.from_bytes(hashlib.sha256(seed + attempt.to_bytes(4, "big")).digest(), "big")

    def below(self, n: int) -> int:
        self._pool, r = divmod(self._pool, n)
        return r

    def pick(self, options: tuple[str, ...]) -> str:
        return options[self.below(len(options))]


def _person(d: _Draw, attempt: int) -> str:
    first, last = d.pick(_FIRST), d.pick(_LAST)
    # Two names from short lists collide quickly; later attempts widen the space with an initial.
    if attempt >= 4:
        return f"{first} {chr(ord('A') + d.below(26))}. {last}"
    return f"{first} {last}"


def _email(d: _Draw, attempt: int) -> str:
    local = f"{d.pick(_FIRST)}.{d.pick(_LAST)}".lower()
    if attempt >= 4:
        local += str(10 + d.below(90))
    return f"{local}@{d.pick(_RESERVED_DOMAINS)}"


def _phone(d: _Draw, attempt: int) -> str:
    # A valid-looking NANP area code (first digit 2-9, second 0-8, not an N11 service code); the
    # 555-0100..0199 block is reserved for fiction in every area code.
    while True:
        a, b, c = 2 + d.below(8), d.below(9), d.below(10)
        if not (b == 1 and c == 1):
            break
    return f"{a}{b}{c}-555-01{d.below(100):02d}"


def _location(d: _Draw, attempt: int) -> str:
    name = d.pick(_PLACE_HEAD) + d.pick(_PLACE_TAIL)
    if attempt >= 4:
        name += " " + d.pick(_PLACE_SUFFIX)
    return name


def _ip(d: _Draw, attempt: int) -> str:
    return f"{d.pick(_TEST_NETS)}.{1 + d.below(254)}"


def _url(d: _Draw, attempt: int) -> str:
    return f"https://www.{d.pick(_RESERVED_DOMAINS)}/{d.pick(_URL_WORDS)}/{d.below(16 ** 6):06x}"


_MAKERS: dict[str, Callable[[_Draw, int], str]] = {
    "PERSON": _person,
    "EMAIL_ADDRESS": _email,
    "PHONE_NUMBER": _phone,
    "LOCATION": _location,
    "IP_ADDRESS": _ip,
    "URL": _url,
}


class SurrogateGenerator:
    """Deterministic fake values per entity kind. Subclass and override ``generate`` for other kinds.

    ``generate(entity, seed, attempt)`` returns a stand-in, or None for a kind it does not cover. The
    vault calls it with attempt 0, 1, 2, ... until the stand-in is free (not issued for another value,
    not equal to a real value seen in the scope), and falls back to ``<ENTITY_N>`` when attempts run out.
    """

    entities: frozenset[str] = frozenset(_MAKERS)

    def supports(self, entity: str) -> bool:
        return entity in self.entities

    def generate(self, entity: str, seed: bytes, attempt: int) -> str | None:
        make = _MAKERS.get(entity)
        if make is None or entity not in self.entities:
            return None
        return make(_Draw(seed, attempt), attempt)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(entities={sorted(self.entities)!r})"
