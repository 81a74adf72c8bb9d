"""One canonical form for comparing values with values: canaries, provenance, confidential copies.

A value leaves through a tool in a different dress than it arrived in: upper case, full-width
letters, a Cyrillic look-alike, a zero-width space in the middle, spaces taken out of an IBAN or put
into a token. Every check that asks "is this the same value?" compares in the forms here, so the
answer cannot depend on which check asked:

* ``canonical``: the detector's normaliser (confusables folded to the ASCII they imitate, invisible
  characters removed, tag characters revealed), then NFKC and case folding, whitespace collapsed to
  one space. Words stay words: this is the form for phrases and sentences.
* ``compact``: ``canonical`` with every character that is not a letter or a digit removed. This is the
  form for identifiers (IBANs, card, phone and account numbers, canary tokens, keys), whose
  separators carry no meaning and are the first thing an attacker (or a helpful model) changes.

Both are linear in the input and allocate one new string each.
"""

from __future__ import annotations

import unicodedata

from .._patterns import compile_linear
from .normalize import normalize

# Everything that is not a letter or a digit, in any script (RE2's Unicode classes).
_NON_ALNUM = compile_linear(r"[^\pL\pN]+")
# RE2's backslash-s, the whitespace collapsed here: tab, newline, form feed, carriage return, space.
_SPACES = str.maketrans("\t\n\f\r", "    ")
# ASCII text is its own normal form (the normaliser, NFKC and case folding change no ASCII character
# but the case of letters), so for it both forms are one C-level translate: the common case costs
# microseconds instead of a normaliser pass and a regex substitution with one callback per match.
_ASCII_COMPACT = str.maketrans({chr(c): (chr(c).lower() if chr(c).isalnum() else None) for c in range(128)})


def collapse_spaces(text: str) -> str:
    """Runs of whitespace (RE2's backslash-s) as one space, the ends stripped (``str.strip``): what
    substituting the pattern ``\\s+`` with one space and stripping gives, with no regex."""
    return " ".join(part for part in text.translate(_SPACES).split(" ") if part).strip()


def canonical(text: str) -> str:
    """``text`` as matching sees it: normalised, NFKC, case-folded, whitespace collapsed and stripped."""
    if not text:
        return ""
    if text.isascii():
        return collapse_spaces(text.lower())
    folded = unicodedata.normalize("NFKC", normalize(text).text).casefold()
    return collapse_spaces(folded)


def compact(text: str) -> str:
    """``canonical(text)`` with separators (anything not a letter or digit) removed."""
    if not text:
        return ""
    if text.isascii():
        return text.translate(_ASCII_COMPACT)
    folded = unicodedata.normalize("NFKC", normalize(text).text).casefold()
    out: str = _NON_ALNUM.sub("", folded)
    return out


__all__ = ["canonical", "collapse_spaces", "compact"]
