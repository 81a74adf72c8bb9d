"""Input hygiene shared by every entry point: text that no encoder can write is made writable once,
at the door, rather than failing deep inside a detector, the vault or the audit log."""

from __future__ import annotations


# Lone surrogates (U+D800..U+DFFF) are not text: no UTF-8 encoder, regex engine or JSON writer takes
# them, so one would turn a check into an encoding error far from the call. A high-low pair (what a
# UTF-16 source split in two leaves behind) becomes the character it encodes; a lone one becomes U+FFFD,
# as any decoder would make of it.
def scrub_surrogates(text: str) -> str:
    """``text`` with surrogate pairs joined and lone surrogates replaced (unchanged, and cheap, without)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
