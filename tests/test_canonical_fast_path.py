"""The canonical forms' fast paths give exactly what the full normalisation gives.

``canonical`` and ``compact`` skip the normaliser for ASCII text, and whitespace is collapsed without
a regex; both are on the hot path of every admitted text. These properties pin them to the slow,
obviously right definitions on any input hypothesis can make.
"""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ctxguard._patterns import compile_linear
from ctxguard.detect.canonical import canonical, collapse_spaces, compact
from ctxguard.detect.normalize import normalize
from ctxguard.flow.provenance import fold

_WS = compile_linear(r"\s+")
_NON_ALNUM = compile_linear(r"[^\pL\pN]+")


def slow_canonical(text: str) -> str:
    folded = unicodedata.normalize("NFKC", normalize(text).text).casefold()
    out: str = _WS.sub(" ", folded)
    return out.strip()


def slow_compact(text: str) -> str:
    folded = unicodedata.normalize("NFKC", normalize(text).text).casefold()
    out: str = _NON_ALNUM.sub("", folded)
    return out


ascii_text = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=127), max_size=200)
any_text = st.text(max_size=200)


@settings(max_examples=500)
@given(ascii_text)
def test_ascii_fast_paths_equal_the_full_forms(text: str) -> None:
    assert canonical(text) == slow_canonical(text)
    assert compact(text) == slow_compact(text)


@settings(max_examples=500)
@given(any_text)
def test_forms_equal_the_full_forms_on_any_text(text: str) -> None:
    assert canonical(text) == slow_canonical(text)
    assert compact(text) == slow_compact(text)


@settings(max_examples=500)
@given(st.text(alphabet=st.sampled_from(list(" \t\n\r\f\v\u00a0\u2028\u3000ab")), max_size=60) | any_text)
def test_collapse_spaces_is_the_regex_substitution(text: str) -> None:
    assert collapse_spaces(text) == _WS.sub(" ", text).strip()


def test_fold_keeps_its_meaning() -> None:
    assert fold("  Pay  DE89%203704\tNOW ") == "pay de89 3704 now"
    assert fold('say \\"hi\\"\\nthere') == 'say "hi" there'
    assert fold("\uff26\uff35\uff2c\uff2c\u3000width") == "full width"
