"""Text a human reader does not see but a model does: HTML comments, CSS-hidden elements, image alt
text, invisible characters.

Hidden text by itself is common (tracking comments, collapsed menus, accessible alt text), so a span
is reported above the threshold only when what it hides reads as an instruction (the caller passes
``reads_as_instruction``, the same sentence analysis the visible text gets); otherwise it is reported
low, for the audit trail. Invisible characters are counted only in text that still holds them: the
firewall's normaliser removes them before detection (and reveals tag-character "ASCII smuggling" as
plain text), so this check matters when the detector is used on raw text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..._patterns import compile_linear

HIDDEN_INSTRUCTION_SCORE = 0.8
HIDDEN_IMPERATIVE_SCORE = 0.4
HIDDEN_PLAIN_SCORE = 0.2
SMUGGLED_SCORE = 0.9
ZERO_WIDTH_SCORE = 0.6
ZERO_WIDTH_MIN = 8
SMUGGLED_MIN = 4


@dataclass(frozen=True, slots=True)
class Hidden:
    name: str
    start: int      # the whole construct (comment, element, image)
    end: int
    inner_start: int  # the hidden text itself
    inner_end: int


_COMMENT = compile_linear(r"(?s)<!--(.*?)-->")
_CSS_HIDDEN = compile_linear(
    r"(?is)<([a-z][a-z0-9]{0,10})\b[^>]{0,400}?style\s*=\s*[\"'][^\"']{0,400}?"
    r"(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:\.0+)?(?:px|pt|em|rem|%)?\s*[;\"']|"
    r"opacity\s*:\s*0(?:\.0+)?\s*[;\"']|color\s*:\s*(?:white|#fff(?:fff)?|rgba?\([^)]{0,40},\s*0\))\s*[;\"']|"
    r"(?:height|width)\s*:\s*0(?:px)?\s*[;\"'])[^>]{0,400}>([^<]{1,1000})"
)
_HIDDEN_ATTR = compile_linear(r"(?is)<([a-z][a-z0-9]{0,10})\b[^>]{0,400}?\s(?:hidden|aria-hidden\s*=\s*[\"']true[\"'])"
                              r"[^>]{0,400}>([^<]{1,1000})")
_MD_ALT = compile_linear(r"!\[([^\]\n]{1,1000})\]\(")
_ZERO_WIDTH = compile_linear(r"[\x{200B}\x{200C}\x{2060}\x{FEFF}\x{180E}\x{2061}-\x{2064}]")
_TAG_CHARS = compile_linear(r"[\x{E0000}-\x{E007F}]")


def hidden_spans(text: str) -> Iterator[Hidden]:
    for m in _COMMENT.finditer(text):
        yield Hidden("hidden_comment", m.start(), m.end(), m.start(1), m.end(1))
    for pattern in (_CSS_HIDDEN, _HIDDEN_ATTR):
        for m in pattern.finditer(text):
            yield Hidden("hidden_css", m.start(), m.end(), m.start(2), m.end(2))
    for m in _MD_ALT.finditer(text):
        yield Hidden("hidden_alt_text", m.start(), m.end(), m.start(1), m.end(1))


def scan_hidden(text: str, reads_as_instruction: Callable[[str], float]) -> Iterator[tuple[str, int, int, float]]:
    """(heuristic, start, end, score) for hidden constructs and invisible-character runs."""
    for h in hidden_spans(text):
        inner = text[h.inner_start:h.inner_end]
        if not any(c.isalpha() for c in inner):
            continue
        instr = reads_as_instruction(inner)
        if instr >= 0.5:
            score = max(HIDDEN_INSTRUCTION_SCORE, instr)
        else:
            score = HIDDEN_IMPERATIVE_SCORE if instr >= 0.3 else HIDDEN_PLAIN_SCORE
        yield h.name, h.start, h.end, score
    tags = [m.start() for m in _TAG_CHARS.finditer(text)]
    if len(tags) >= SMUGGLED_MIN:
        yield "smuggled_chars", tags[0], tags[-1] + 1, SMUGGLED_SCORE
    zw = [m.start() for m in _ZERO_WIDTH.finditer(text)]
    if len(zw) >= ZERO_WIDTH_MIN:
        # Interleaved between letters is the tell ("i\u200bg\u200bn\u200bo\u200br\u200be"): a BOM at the start or
        # a few joiners in emoji are not.
        between = sum(1 for i in zw if 0 < i < len(text) - 1 and text[i - 1].isalpha() and text[i + 1].isalpha())
        if between >= ZERO_WIDTH_MIN:
            yield "zero_width", zw[0], zw[-1] + 1, ZERO_WIDTH_SCORE
