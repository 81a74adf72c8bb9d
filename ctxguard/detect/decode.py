"""Encoded payloads found, decoded and handed back for scanning, bounded by depth and size.

Instructions and secrets get past pattern matchers as base64, hex, URL-encoding, quoted-printable, or
bytes hidden in variation selectors after an emoji. ``decoded_spans`` finds candidate spans with
linear-time (RE2) patterns on the normalised text, decodes those that turn out to be text, and looks
inside the decoded text again, up to ``max_depth``. Every span, however deep, reports the outermost
encoded span of the caller's text: a finding inside a payload maps to (and is redacted as) the whole
payload. Decoded bytes and spans are capped, so hostile input (megabytes of base64 alphabet, ``%%%%``,
``=3D=3D...``) costs linear time and bounded memory; ``decode_payloads`` says when a cap cut the work
short, so a caller can fail closed instead of trusting a partial scan.

``scan_with_decoding`` is the detector-side helper: one detect function run on the normalised text and
on every decoded payload, findings mapped to offsets in the original text and tagged with the encoding.
"""

from __future__ import annotations

import base64
import binascii
import heapq
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
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
# What every candidate pattern above needs somewhere in the text: a run of 16 base64 (or hex) characters,
# a %XX escape, or a quoted-printable =XX or soft break. One search for it spares the five passes on the
# many texts that hold none (each RE2 call through the binding costs microseconds, whatever it finds).
_ANY_CANDIDATE = compile_linear(r"[A-Za-z0-9+/_\-]{16}|%[0-9A-Fa-f]{2}|=[0-9A-F]{2}|=\r?\n")
_VS = compile_linear(r"[\x{FE00}-\x{FE0F}\x{E0100}-\x{E01EF}]{4,}")

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


# name -> (decoder, at most how many characters of input one byte of output takes). A candidate is cut
# to what can produce the bytes the budget has left, so work per candidate is bounded by the budget.
_DECODERS: dict[str, tuple[Callable[[str], bytes | None], int]] = {
    "base64": (_base64, 2), "hex": (_hex, 2), "url": (_url, 3), "qp": (_qp, 3), "vs": (_variation_selectors, 1),
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
               found(_URL, "url"), found(_QP, "qp")] if _ANY_CANDIDATE.search(encoded) else []
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
        data = decode(c.raw[:cap])
        if data is None:
            continue
        if len(c.raw) > cap or len(data) > limit:
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
    norm = normalize(text)
    found: dict[Finding, None] = {}
    plain: list[tuple[int, int, _Seen]] = []
    for f in detect(norm.text):
        start, end = norm.to_original(f.start, f.end)
        found[replace(f, start=start, end=end)] = None
        plain.append((start, end, (f.detector, f.kind, norm.text[f.start:f.end])))
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
            if (f.detector, f.kind, inner[f.start:f.end]) in above:
                continue
            found[replace(f, start=span.start, end=span.end, detector=f"{f.detector}+{span.encoding}")] = None
    if decoded.exhausted:
        # A cap stopped decoding: payloads past it went unscanned, so say so and let the policy decide
        # (the firewall blocks it: fail closed).
        found[Finding("decode", "limits:decode", 0, len(text), 1.0)] = None
    return list(found)


__all__ = ["MAX_DEPTH", "Decoded", "DecodedSpan", "decode_payloads", "decoded_spans", "scan_with_decoding"]
