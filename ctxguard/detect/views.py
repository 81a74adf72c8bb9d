"""Whole-value views of text that hide a secret from pattern matchers: reversed, rot13, string
escapes, HTML character references, character-code lists, base32.

``detect.decode`` finds encoded *spans* (base64, hex, URL, quoted-printable) and hands them to every
detector. The forms here are different: a reversed or rot13 string has no shape a pattern can spot,
and escapes, entities and code lists are cheap to undo on the whole value. They are given to
pattern-only checks (secrets, canaries) on tool arguments and answers, never to NER, which would cost
its milliseconds once per view on every message. Each view is linear in the input (RE2 patterns, one
pass each) and only views that differ from the text are returned.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html

from .._patterns import compile_linear

_ESCAPE = compile_linear(r"\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8}|\\x[0-9A-Fa-f]{2}")
_DECIMAL_CODES = compile_linear(r"\b(?:\d{2,3}\s{0,3}[,;\s]\s{0,3}){5,}\d{2,3}\b")
_HEX_CODES = compile_linear(r"(?i)\b(?:0x[0-9a-f]{2}\s{0,3}[,;\s]\s{0,3}){5,}0x[0-9a-f]{2}\b")
_NUMBERS = compile_linear(r"(?i)0x[0-9a-f]{2}|\d{2,3}")
_BASE32 = compile_linear(r"\b(?:[A-Z2-7]{16,}|[a-z2-7]{16,})={0,6}")


def _unescape(m: object) -> str:
    s: str = m.group()  # type: ignore[attr-defined]
    cp = int(s[2:], 16)
    return chr(cp) if cp < 0xD800 or 0xDFFF < cp <= 0x10FFFF else "\ufffd"


def _string_escapes(text: str) -> str:
    out: str = _ESCAPE.sub(_unescape, text)
    # A UTF-16 pair written as two \u escapes comes out as two surrogate halves: join them.
    return out.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace") if out != text else out


def _codes(m: object) -> str:
    chars = []
    for n in _NUMBERS.findall(m.group()):  # type: ignore[attr-defined]
        v = int(n, 16) if n[:2].lower() == "0x" else int(n)
        if not 32 <= v <= 126:
            return str(m.group())  # type: ignore[attr-defined]
        chars.append(chr(v))
    return "".join(chars)


def _base32(m: object) -> str:
    s: str = m.group()  # type: ignore[attr-defined]
    body = s.rstrip("=").upper()
    body += "=" * (-len(body) % 8)
    try:
        data = base64.b32decode(body)
    except (binascii.Error, ValueError):
        return s
    text = data.decode("utf-8", "replace")
    return text if text.isprintable() and "\ufffd" not in text else s


def concealed_views(text: str) -> list[tuple[str, str]]:
    """(name, view) for each way ``text`` may be hiding a value, where the view differs from it."""
    if len(text) < 8:
        return []
    views = [("reversed", text[::-1]), ("rot13", codecs.encode(text, "rot13"))]
    if "\\" in text:
        views.append(("escapes", _string_escapes(text)))
    if "&" in text and ";" in text:
        views.append(("entities", html.unescape(text)))
    views.append(("char_codes", _HEX_CODES.sub(_codes, _DECIMAL_CODES.sub(_codes, text))))
    views.append(("base32", _BASE32.sub(_base32, text)))
    return [(name, v) for name, v in views if v != text]


__all__ = ["concealed_views"]
