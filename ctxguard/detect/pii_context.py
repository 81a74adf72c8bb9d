"""Context words and pattern shapes: whether a pattern can reach the score threshold and where a
context word may be in reach, without spaCy."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from .._patterns import compile_linear

# Characters before a result where a context word is looked for without spaCy (Presidio looks at the
# five non-stop-word lemmas before it, which in running text lie well within this).
_CONTEXT_WINDOW = 400


def _stem(word: str, escape: bool = True) -> str:
    """A context word as it can appear in the surface form its lemma came from.

    English lemmas change only a word's ending: "phoning" gives the lemma "phone", so "phon" is what
    must occur in the text for the lemma to contain "phone".
    """
    w = word.lower()
    w = w[:-1] if w.endswith("e") and len(w) > 3 else w
    return "".join("\\" + c if escape and not c.isalnum() else c for c in w)


def _stems(words: Sequence[str]) -> Any:
    return compile_linear("|".join(_stem(w) for w in words), ignore_case=True)


def _shape(pattern: str) -> tuple[int | None, bool]:
    """(longest match, or None if unbounded; whether no match can hold a line break) of an RE2 pattern.

    Read off the pattern's parse tree (Python's parser reads the RE2 subset we produce); anything it
    cannot read is taken as unbounded and able to cross lines, which only makes searches wider.
    """
    try:
        c = importlib.import_module("re._constants")
        p = importlib.import_module("re._parser")
    except ImportError:  # pragma: no cover - Python 3.10
        c = importlib.import_module("sre_constants")
        p = importlib.import_module("sre_parse")
    try:
        tree = p.parse(pattern.replace(r"\z", r"\Z"))
    except Exception:  # any parse failure means "unknown"
        return None, False
    dotall = bool(tree.state.flags & c.SRE_FLAG_DOTALL)
    spacey = {c.CATEGORY_SPACE, c.CATEGORY_NOT_DIGIT, c.CATEGORY_NOT_WORD, c.CATEGORY_LINEBREAK}

    def in_set(items: Any) -> bool:
        hit, negate = False, False
        for op, av in items:
            if op is c.NEGATE:
                negate = True
            elif op is c.LITERAL:
                hit = hit or av == 10
            elif op is c.RANGE:
                hit = hit or av[0] <= 10 <= av[1]
            elif op is c.CATEGORY:
                hit = hit or av in spacey
            else:
                return True
        return hit != negate

    def crosses(items: Any) -> bool:
        for op, av in items:
            if op is c.LITERAL:
                if av == 10:
                    return True
            elif op is c.NOT_LITERAL:
                if av != 10:
                    return True
            elif op is c.ANY:
                if dotall:
                    return True
            elif op is c.IN:
                if in_set(av):
                    return True
            elif op is c.SUBPATTERN:
                if crosses(av[-1]):
                    return True
            elif op is c.BRANCH:
                if any(crosses(b) for b in av[1]):
                    return True
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT):
                if crosses(av[2]):
                    return True
            elif op is not c.AT:
                return True
        return False

    _, most = tree.getwidth()
    return (None if most >= c.MAXREPEAT else int(most)), not crosses(tree)


def _keywords_before(text: str, start: int, want: int) -> list[str]:
    """The lower-cased words Presidio's context rule looks at, nearest first: the word ``start`` is in,
    then the words before it, skipping stop words, punctuation and "be", until ``want`` are found."""
    stop = _stop_words()
    out: list[str] = []
    lo = max(0, start - _CONTEXT_WINDOW)
    end = start
    while end < len(text) and end - start < 64 and _is_word_char(text[end]):
        end += 1
    for chunk in reversed(text[lo:max(end, start + 1)].split()):
        for tok in reversed(_split_punct(chunk)):
            low = tok.lower()
            if low in stop or low == "be" or (len(tok) == 1 and _is_punct(tok)):
                continue
            out.append(low)
            if len(out) >= want:
                return out
    return out


def _is_word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _split_punct(chunk: str) -> list[str]:
    """A blank-free chunk as words (runs of word characters) and single other characters."""
    if chunk.isalnum():
        return [chunk]
    out: list[str] = []
    word = ""
    for ch in chunk:
        if _is_word_char(ch):
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(ch)
    if word:
        out.append(word)
    return out


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


@lru_cache(maxsize=4096)
def _is_punct(ch: str) -> bool:
    """spaCy's is_punct for one character: a Unicode punctuation category."""
    import unicodedata

    return unicodedata.category(ch).startswith("P")
