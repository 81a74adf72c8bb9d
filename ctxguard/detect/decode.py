"""Encoded payloads found, decoded and handed back for scanning, bounded by depth and size.

Instructions and secrets get past pattern matchers as base64, base32, hex, URL-encoding,
quoted-printable, string escapes (``\\u0041``, ``\\x41``), HTML character references (``&#65;``,
``&#x41;``, ``&Aopf;``), lists of character codes (``104,116,116,112``, ``0x68 0x74``), or bytes hidden
in variation selectors after an emoji. ``decoded_spans`` finds candidate spans with
linear-time (RE2) patterns on the normalised text, decodes those that turn out to be text, and looks
inside the decoded text again, up to ``max_depth``. Every span, however deep, reports the outermost
encoded span of the caller's text: a finding inside a payload maps to (and is redacted as) the whole
payload. Decoded bytes and spans are capped, so hostile input (megabytes of base64 alphabet, ``%%%%``,
``=3D=3D...``) costs linear time and bounded memory; ``decode_payloads`` says when a cap cut the work
short, so a caller can fail closed instead of trusting a partial scan.

``scan_with_decoding`` is the detector-side helper: one detect function run on the normalised text and
on every decoded payload, findings mapped to offsets in the original text and tagged with the encoding.

Some disguises leave nothing a pattern could spot: a token spelled backwards, or in rot13, is still
letters and digits of the right length. ``transformed_views`` gives those readings of a whole value,
and ``scan_views`` runs a detector over them. They are not payloads: every text would have them, so
they are for the cheap pattern-only checks (secrets, canaries) on what leaves (tool arguments,
answers), never for NER. ``scan_joined`` does the same for a value split across tool arguments.
Findings from views and joins have no place in any one text a redaction could edit (their detector
ends in ``+rot13``, ``+reversed`` or ``+split``; see ``located``), so they can only be blocked.
"""

from __future__ import annotations

import base64
import binascii
import heapq
import html
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any
from urllib.parse import unquote_to_bytes

from .._patterns import compile_linear
from ..decision import Finding
from .normalize import Normalized, normalize

# Candidate spans. Lengths are floors that keep ordinary words out: 16 base64 characters (12 bytes),
# 16 hex digits (8 bytes), three %XX or =XX escapes, four variation selectors.
_B64_LINE = compile_linear(r"[A-Za-z0-9+/_\-]{16,}={0,2}")
# MIME and PEM wrap base64 at 64 or 76 columns; a payload split across lines is one candidate.
_B64_BLOCK = compile_linear(r"(?:[A-Za-z0-9+/]{40,}\r?\n)+[A-Za-z0-9+/]{4,}={0,2}")
_HEX = compile_linear(r"\b(?:0[xX])?[0-9A-Fa-f]{16,}\b")
_URL = compile_linear(r"[^\s%]*(?:%[0-9A-Fa-f]{2}[^\s%]*){3,}")
# Quoted-printable escapes are upper-case hex (RFC 2045); "=" at a line end is a soft line break. Spaces
# are literal in QP, so a candidate runs over the whole line, not one word.
_QP = compile_linear(r"(?:[^=\r\n]*(?:=[0-9A-F]{2}|=\r?\n)){3,}[^=\r\n]*")
# Variation selectors VS1-VS256 carry one byte each (VS1-16: 0-15, VS17-256: 16-255) and render as
# nothing; normalisation removes them, so this one runs on the text as given.
_VS = compile_linear(r"[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]{4,}")
# Base32 (RFC 4648) is one case throughout, as encoders write it; a whole word, so it never fires inside
# mixed-case base64 or an identifier. 16 characters are 10 bytes.
_B32 = compile_linear(r"\b(?:[A-Z2-7]{16,}|[a-z2-7]{16,})(?:={1,6}|\b)")
# String escapes (JSON, JavaScript, Python): a \\u, \\x or \\U escape makes the whole line a candidate,
# literal characters included, because one escaped letter ("\\u0041KIA...") is enough to hide a token,
# and a line is what an instruction is written on. \\n, \\" and the like decode too, but alone they are
# ordinary JSON, not a disguise.
_ESCAPED = compile_linear(r"[^\r\n]*\\(?:u[0-9A-Fa-f]{4}|x[0-9A-Fa-f]{2}|U[0-9A-Fa-f]{8})[^\r\n]*")
_ESCAPE = compile_linear(r"\\(?:u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|U([0-9A-Fa-f]{8})|([^\r\n]))")
# HTML character references: a line holding one is a candidate (decoded whole, with html.unescape); it is
# kept only when a reference hides something (see _hiding_reference), since "&amp;" and "&#8217;" are
# everywhere in ordinary HTML.
_HTML = compile_linear(r"[^\r\n]*&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31})[^\r\n]*")
_HTML_REF = compile_linear(r"&(?:#[0-9]{1,7};?|#[xX][0-9A-Fa-f]{1,6};?|[A-Za-z][A-Za-z0-9]{1,31};)")
# Character codes (String.fromCharCode(104, 116, ...), [0x68, 0x74, ...]): at least six, separated by
# a comma or a space. Decimal codes must all be printable ASCII (see _char_codes); hex ones are bytes.
_DEC_CODES = compile_linear(r"\b[0-9]{1,3}(?:[ \t]{0,3}[, ][ \t]{0,3}[0-9]{1,3}){5,}\b")
_HEX_CODES = compile_linear(r"\b0[xX][0-9A-Fa-f]{2}(?:[ \t]{0,3}[, ][ \t]{0,3}0[xX][0-9A-Fa-f]{2}){5,}\b")
_CODE_SEPARATORS = bytes.maketrans(b",\t", b"  ")

# Decoded text that is more than this share control characters or U+FFFD is binary, not a payload.
_MAX_BAD_SHARE = 0.1
_BAD = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0), 0xFFFD])


@dataclass(frozen=True, slots=True)
class DecodedSpan:
    """Encoded text at [start, end) of the caller's text, and what it decodes to.

    ``encoding`` is the chain from the outside in (``"base64"``, ``"base64+url"``); ``depth`` is its
    length. Nested spans keep the outermost span. ``text`` is left out of the repr: it is the payload,
    and may be the secret.
    """

    start: int
    end: int
    encoding: str
    text: str = field(repr=False)
    depth: int


@dataclass(frozen=True, slots=True)
class Decoded:
    """All spans found, and whether a cap (bytes, spans) stopped the search before the end."""

    spans: tuple[DecodedSpan, ...]
    exhausted: bool


# (detector, kind, matched value): how scan_with_decoding recognises a value already seen a level up.
_Seen = tuple[str, str, str]

# Nesting deeper than this is no payload anyone writes by hand, and each level costs a recursion.
MAX_DEPTH = 8


@dataclass(slots=True)
class _Budget:
    bytes_left: int
    spans_left: int
    exhausted: bool = False


@dataclass(frozen=True, slots=True)
class _Candidate:
    start: int
    end: int
    encoding: str
    raw: str


def _base64(s: str) -> bytes | None:
    s = s.replace("\r", "").replace("\n", "").rstrip("=")
    urlsafe = "-" in s or "_" in s
    if urlsafe and ("+" in s or "/" in s):
        return None
    if len(s) % 4 == 1:
        s = s[:-1]
    s += "=" * (-len(s) % 4)
    try:
        return base64.b64decode(s, altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        return None


def _hex(s: str) -> bytes | None:
    if s[:2] in ("0x", "0X"):
        s = s[2:]
    return bytes.fromhex(s[: len(s) - len(s) % 2])


def _url(s: str) -> bytes | None:
    return unquote_to_bytes(s)


def _qp(s: str) -> bytes | None:
    return binascii.a2b_qp(s.encode("utf-8"))


def _variation_selectors(s: str) -> bytes | None:
    return bytes(ord(c) - 0xFE00 if ord(c) < 0x10000 else ord(c) - 0xE0100 + 16 for c in s)


def _base32(s: str) -> bytes | None:
    s = s.rstrip("=")
    # Unpadded base32 is 0, 2, 4, 5 or 7 characters past a multiple of 8; a cut candidate loses its tail.
    s = s[: len(s) - {1: 1, 3: 1, 6: 1}.get(len(s) % 8, 0)]
    try:
        return base64.b32decode(s + "=" * (-len(s) % 8), casefold=True)
    except (binascii.Error, ValueError):
        return None


_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0",
                   "/": "/", "\\": "\\", '"': '"', "'": "'", "`": "`"}


def unescape_string(s: str) -> str:
    """``s`` with JSON, JavaScript and Python string escapes decoded, other characters as they are.

    \\u escapes pair into surrogates (an emoji is two); a run of \\x escapes that is valid UTF-8 is
    read as UTF-8 (Python bytes reprs), otherwise each is the code point it names (JavaScript). An
    unknown escape (``\\d`` in a regular expression) stays as written. Linear in ``s``.
    """
    data = s.encode("utf-8", "surrogatepass")
    out: list[str] = []
    run = bytearray()  # consecutive \x escapes
    surrogates = False
    last = 0

    def flush() -> None:
        if run:
            try:
                out.append(run.decode("utf-8") if max(run) >= 0x80 else run.decode("ascii"))
            except UnicodeDecodeError:
                out.append(run.decode("latin-1"))
            run.clear()

    for m in _ESCAPE.finditer(data):
        if m.start() > last:
            flush()
            out.append(data[last:m.start()].decode("utf-8", "surrogatepass"))
        last = m.end()
        u, x, big, other = m.groups()
        if x is not None:
            run.append(int(x, 16))
            continue
        flush()
        if u is not None:
            cp = int(u, 16)
            surrogates = surrogates or 0xD800 <= cp <= 0xDFFF
            out.append(chr(cp))
        elif big is not None:
            cp = int(big, 16)
            out.append(chr(cp) if cp <= 0x10FFFF else "\ufffd")
        else:
            ch = other.decode("utf-8", "surrogatepass") if isinstance(other, bytes) else other
            out.append(_SIMPLE_ESCAPES.get(ch, "\\" + ch))
    flush()
    out.append(data[last:].decode("utf-8", "surrogatepass"))
    text = "".join(out)
    if surrogates:  # pair the halves; a lone half becomes U+FFFD
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def _escapes(s: str) -> bytes | None:
    return unescape_string(s).encode("utf-8", "replace")


def _html(s: str) -> bytes | None:
    return html.unescape(s).encode("utf-8", "replace")


def _char_codes(s: str) -> bytes | None:
    """Decimal codes, each printable ASCII or a tab or line break: a list with any other number is data
    (counts, prices, a sequence), not a string spelled out."""
    codes = s.encode("ascii").translate(_CODE_SEPARATORS).split()
    out = bytearray()
    for c in codes:
        n = int(c)
        if not (32 <= n <= 126 or n in (9, 10, 13)):
            return None
        out.append(n)
    return bytes(out)


def _hex_codes(s: str) -> bytes | None:
    return bytes(int(c, 16) for c in s.encode("ascii").translate(_CODE_SEPARATORS).split())


# name -> (decoder, at most how many characters of input one byte of output takes). A candidate is cut
# to what can produce the bytes the budget has left, so work per candidate is bounded by the budget.
_DECODERS: dict[str, tuple[Callable[[str], bytes | None], int]] = {
    "base64": (_base64, 2), "hex": (_hex, 2), "url": (_url, 3), "qp": (_qp, 3), "vs": (_variation_selectors, 1),
    "base32": (_base32, 2), "escape": (_escapes, 10), "html": (_html, 34), "codes": (_char_codes, 10),
    "hexcodes": (_hex_codes, 11),
}


def _as_text(data: bytes) -> str | None:
    """The payload as text, or None when it is binary (random bytes, images, hashes)."""
    if not data:
        return None
    text = data.decode("utf-8", "replace")
    bad = len(text) - len(text.translate(_BAD))
    return None if bad > len(text) * _MAX_BAD_SHARE else text


def _plausible_base64(g: bytes) -> bool:
    """Cheap filters run before anything else is spent on a match: not hex digits only (the hex
    decoder owns those) and a mixed alphabet. Base64 of any real payload has upper and lower case and
    digits; identifiers and long words ("internationalization") have one kind."""
    if not g.translate(None, b"0123456789abcdefABCDEF"):
        return False
    return (g != g.lower()) + (g != g.upper()) + (not g.isalpha()) >= 2


def _plausible_base32(g: bytes) -> bool:
    """Base32 of text nearly always has a digit (values 26-31) within 16 characters; a run of letters
    alone is a word or a constant name. Letters are needed too: digits 2-7 alone are a number."""
    body = g.rstrip(b"=")
    letters = body.translate(None, b"234567")
    return 0 < len(letters) < len(body)


@lru_cache(maxsize=4096)
def _hiding_reference(ref: bytes) -> bool:
    """Whether one character reference stands for something a detector looks for: printable ASCII
    (``&#65;``, ``&colon;``, ``&#32;`` between words), or a look-alike that NFKC turns into a letter
    or digit (``&#xFF21;``, ``&Aopf;``). The markup escapes (``&amp;``, ``&lt;``, ``&quot;``) and
    typography (``&nbsp;``, ``&#8217;``, ``&eacute;``) are how ordinary HTML is written."""
    ch = html.unescape(ref.decode("ascii"))
    if len(ch) != 1:
        return False
    if " " <= ch <= "~":
        return ch not in "&<>\"'"
    folded = unicodedata.normalize("NFKC", ch)
    return folded.isascii() and folded.isalnum()


def _plausible_html(g: bytes) -> bool:
    return any(_hiding_reference(m.group()) for m in _HTML_REF.finditer(g))


def _candidates(raw: str, norm: Normalized) -> Iterator[_Candidate]:
    """Candidate spans in ``raw`` coordinates, in order of start (longest first on a tie), lazily:
    the search stops scanning as soon as the budget does. Patterns run on the UTF-8 bytes of the
    normalised text, encoded once: RE2 matches on bytes cost a fraction of matches on str."""
    encoded = norm.text.encode("utf-8")
    ascii_only = len(encoded) == len(norm.text)

    def found(pattern: Any, encoding: str, keep: Callable[[bytes], bool] | None = None,
              split_paths: bool = False) -> Iterator[_Candidate]:
        last_byte = last_char = 0
        for m in pattern.finditer(encoded):
            g = m.group()
            plausible = keep is None or keep(g)
            if not plausible and not (split_paths and b"/" in g):
                continue
            bs, be = m.span()
            if ascii_only:
                cs, ce = bs, be
            else:  # byte offsets to str offsets, incrementally: matches come in order
                cs = last_char + len(encoded[last_byte:bs].decode("utf-8"))
                ce = cs + len(g.decode("utf-8"))
                last_byte, last_char = be, ce
            if plausible:
                s, e = norm.to_original(cs, ce)
                yield _Candidate(s, e, encoding, g.decode("utf-8"))
            if split_paths and b"/" in g:
                # "/" is base64 alphabet, so a payload in a URL path ("https://x.test/log/QUtJ...") is
                # glued to the path before it; each path segment is tried on its own as well.
                offset = 0
                for segment in g.split(b"/"):
                    if len(segment) >= 16 and len(segment) < len(g) and (keep is None or keep(segment)):
                        s, e = norm.to_original(cs + offset, cs + offset + len(segment))
                        yield _Candidate(s, e, encoding, segment.decode("ascii"))
                    offset += len(segment) + 1

    def hidden_bytes() -> Iterator[_Candidate]:
        for m in _VS.finditer(raw):
            yield _Candidate(m.start(), m.end(), "vs", m.group())

    sources = [found(_B64_BLOCK, "base64", _plausible_base64), found(_B64_LINE, "base64", _plausible_base64, True),
               found(_HEX, "hex"),
               found(_URL, "url"), found(_QP, "qp"), found(_B32, "base32", _plausible_base32),
               found(_DEC_CODES, "codes")]
    # A byte search is far cheaper than a pattern pass: skip the patterns whose anchor is absent.
    if b"\\" in encoded:
        sources.append(found(_ESCAPED, "escape"))
    if b"&" in encoded:
        sources.append(found(_HTML, "html", _plausible_html))
    if b"0x" in encoded or b"0X" in encoded:
        sources.append(found(_HEX_CODES, "hexcodes"))
    if not raw.isascii():
        sources.append(hidden_bytes())
    yield from heapq.merge(*sources, key=lambda c: (c.start, -c.end))


def _search(raw: str, norm: Normalized, depth: int, max_depth: int, outer: tuple[int, int] | None,
            chain: str, budget: _Budget, out: list[DecodedSpan]) -> None:
    covered: dict[str, int] = {}  # per encoding, the end of the last payload decoded here
    for c in _candidates(raw, norm):
        if budget.exhausted:
            return
        if c.end <= covered.get(c.encoding, -1):
            continue  # a line inside a base64 block already decoded whole
        limit = budget.bytes_left
        decode, chars_per_byte = _DECODERS[c.encoding]
        cap = chars_per_byte * (limit + 4)
        cut = len(c.raw) > cap
        data = decode(c.raw[:cap])
        if data is None:
            if cut:  # cut by the budget, not refused on its merits: what it hid went unread
                budget.exhausted = True
                return
            continue
        if cut or len(data) > limit:
            data = data[:limit]
            budget.exhausted = True
        budget.bytes_left -= len(data)
        if budget.bytes_left <= 0:
            budget.exhausted = True
        text = _as_text(data)
        if text is None:
            continue
        covered[c.encoding] = c.end
        span = outer or (c.start, c.end)
        encoding = chain + c.encoding
        out.append(DecodedSpan(span[0], span[1], encoding, text, depth))
        budget.spans_left -= 1
        if budget.spans_left <= 0:
            budget.exhausted = True
            return
        if depth < max_depth:
            _search(text, normalize(text), depth + 1, max_depth, span, encoding + "+", budget, out)


def decode_payloads(
    text: str, *, max_depth: int = 2, max_total_bytes: int = 1_000_000, max_spans: int = 1000,
    norm: Normalized | None = None,
) -> Decoded:
    """Decoded payloads of ``text`` and whether a cap stopped the search. ``norm`` is
    ``normalize(text)`` when the caller has it already. ``max_depth`` is at most ``MAX_DEPTH``."""
    if not 0 <= max_depth <= MAX_DEPTH:
        raise ValueError(f"max_depth must be between 0 and {MAX_DEPTH}, not {max_depth}")
    out: list[DecodedSpan] = []
    budget = _Budget(max_total_bytes, max_spans)
    if max_depth >= 1 and max_total_bytes > 0 and max_spans > 0:
        _search(text, norm if norm is not None else normalize(text), 1, max_depth, None, "", budget, out)
    return Decoded(tuple(out), budget.exhausted)


def decoded_spans(
    text: str, *, max_depth: int = 2, max_total_bytes: int = 1_000_000, max_spans: int = 1000,
) -> list[DecodedSpan]:
    """Encoded spans of ``text`` (base64, hex, URL, quoted-printable, variation selectors) with their
    decoded text, nested ones included up to ``max_depth``; offsets index ``text`` as given."""
    return list(decode_payloads(text, max_depth=max_depth, max_total_bytes=max_total_bytes,
                                max_spans=max_spans).spans)


def _scan(
    text: str, detect: Callable[[str], list[Finding]], max_depth: int, max_total_bytes: int, max_spans: int,
) -> tuple[dict[Finding, _Seen], bool]:
    """Findings of ``detect`` on ``text`` and its payloads (in original offsets, tagged), each with
    what it matched, and whether a cap stopped decoding. The matched values stay inside this module's
    callers: they are how a value is recognised at another level, never output."""
    norm = normalize(text)
    found: dict[Finding, _Seen] = {}
    plain: list[tuple[int, int, _Seen]] = []
    for f in detect(norm.text):
        start, end = norm.to_original(f.start, f.end)
        seen = (f.detector, f.kind, norm.text[f.start:f.end])
        found.setdefault(replace(f, start=start, end=end), seen)
        plain.append((start, end, seen))
    decoded = decode_payloads(text, max_depth=max_depth, max_total_bytes=max_total_bytes,
                              max_spans=max_spans, norm=norm)
    by_level: dict[tuple[int, int, str], set[_Seen]] = {}
    for span in decoded.spans:
        inner = normalize(span.text).text
        findings = detect(inner)
        here = {(f.detector, f.kind, inner[f.start:f.end]) for f in findings}
        by_level[(span.start, span.end, span.encoding)] = here
        outer_chain = span.encoding.rpartition("+")[0]
        if outer_chain:
            above = by_level.get((span.start, span.end, outer_chain), set())
        else:
            above = {seen for s, e, seen in plain if span.start <= s and e <= span.end}
        for f in findings:
            seen = (f.detector, f.kind, inner[f.start:f.end])
            if seen in above:
                continue
            tagged = replace(f, start=span.start, end=span.end, detector=f"{f.detector}+{span.encoding}")
            found.setdefault(tagged, seen)
    return found, decoded.exhausted


def _limits(text: str) -> Finding:
    # A cap stopped decoding: payloads past it went unscanned, so say so and let the policy decide (the
    # firewall blocks it: fail closed).
    return Finding("decode", "limits:decode", 0, len(text), 1.0)


def scan_with_decoding(
    text: str, detect: Callable[[str], list[Finding]], *, max_depth: int = 2,
    max_total_bytes: int = 1_000_000, max_spans: int = 1000,
) -> list[Finding]:
    """``detect`` on the normalised text and on every decoded payload, findings in original offsets.

    A finding inside a payload covers the whole outermost encoded span and its detector is tagged
    with the encoding chain (``"secrets+base64"``). A value the encoding did not hide (found by the same
    detector one level up, inside the same span: plain text on a quoted-printable line, an address in
    a URL with escapes elsewhere) is reported once, at that level's more exact place.
    """
    found, exhausted = _scan(text, detect, max_depth, max_total_bytes, max_spans)
    out = list(found)
    if exhausted:
        out.append(_limits(text))
    return out


# ---- readings no pattern can spot -------------------------------------------------------------------

# Tags of findings that lie in no text the caller holds: a view of a whole value, or a join of values.
VIEW_TAGS = ("rot13", "reversed", "split")
_ROT13 = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
                       "NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm")


def _views(normalized: str) -> list[tuple[str, str]]:
    return [("rot13", normalized.translate(_ROT13)), ("reversed", normalized[::-1])]


def transformed_views(text: str) -> list[tuple[str, str]]:
    """(name, text) readings of the normalised ``text`` that undo a transformation of the whole value:
    rot13 and reversal. A token in either keeps its length and alphabet, so no candidate pattern can
    tell it from ordinary text; only reading the whole value the other way round shows it. Linear, two
    new strings."""
    return _views(normalize(text).text)


def located(f: Finding) -> bool:
    """Whether ``f`` lies where its span says, in the text it was reported on, so that an edit there
    removes it. A view or join finding does not: its value exists only once the text is transformed or
    glued to another, so no redaction of the text can take it out."""
    return f.detector.rpartition("+")[2] not in VIEW_TAGS


def scan_views(text: str, detect: Callable[[str], list[Finding]]) -> list[Finding]:
    """``detect`` on the rot13 and reversed views of ``text``, for pattern-only detectors (secrets).

    A finding covers the whole of ``text`` (its place in the view is no place in ``text``) and its
    detector is tagged with the view (``"secret:GITHUB_TOKEN+rot13"``). A match the view left as it was
    (digits and symbols only, a palindrome), or that the plain text holds anyway, is the plain text's
    finding, not the view's, and is left out.
    """
    if not text:
        return []
    normalized = normalize(text).text
    out: dict[Finding, None] = {}
    for name, view in _views(normalized):
        for f in detect(view):
            if view[f.start:f.end] in normalized:
                continue
            out[Finding(f"{f.detector}+{name}", f.kind, 0, len(text), f.score)] = None
    return list(out)


def scan_joined(
    values: Sequence[str], detect: Callable[[str], list[Finding]], *, max_depth: int = 2,
    max_total_bytes: int = 1_000_000, max_spans: int = 1000,
) -> list[Finding]:
    """Findings of ``detect`` that appear only once ``values`` are glued together, in order.

    A tool receives all of a call's arguments; a token cut in two (``{"a": "ghp_Zq8L", "b": "m3Tr..."}``)
    is whole again at the other end, and so is base64 cut in two. Values are joined with nothing
    between them: that is the join that restores a token, and the patterns for values with spaces in
    them (assignments, PEM blocks) match across it as well. A finding is reported when it crosses a
    boundary and its value is not one that some single value already shows (which that value's own
    check reports, at its exact place). Offsets index the joined text; the detector is tagged
    ``+split``. A cap on decoding gives ``limits:decode``, as in ``scan_with_decoding``.
    """
    parts = [v for v in values if v]
    if len(parts) < 2:
        return []
    joined = "".join(parts)
    found, exhausted = _scan(joined, detect, max_depth, max_total_bytes, max_spans)
    bounds: list[tuple[int, int]] = []
    at = 0
    for v in parts:
        bounds.append((at, at + len(v)))
        at += len(v)
    crossing = {f: seen for f, seen in found.items()
                if f.end > f.start and not any(s <= f.start and f.end <= e for s, e in bounds)}
    out: list[Finding] = []
    if crossing:
        # Rare (a finding across a boundary), so each value's own values are looked up only now.
        alone = {seen[1:] for v in parts for seen in _scan(v, detect, max_depth, max_total_bytes, max_spans)[0].values()}
        out = [replace(f, detector=f"{f.detector}+split") for f, seen in crossing.items() if seen[1:] not in alone]
    if exhausted:
        out.append(_limits(joined))
    return out


__all__ = ["MAX_DEPTH", "VIEW_TAGS", "Decoded", "DecodedSpan", "decode_payloads", "decoded_spans", "located",
           "scan_joined", "scan_views", "scan_with_decoding", "transformed_views", "unescape_string"]
