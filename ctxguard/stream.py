"""Streamed model output, checked before any of it reaches the user: a hold-back window.

A streamed answer cannot be checked once at the end, because by then the user has already seen it,
and it cannot be checked chunk by chunk, because a secret or a markdown-image URL arrives split
across chunks. ``OutputStream`` keeps the newest ``hold_back`` characters unreleased, checks the
whole unreleased text with ``Session.check_output`` and releases only a prefix that:

- ends at whitespace and at least ``hold_back`` characters before the newest text, so anything that
  might still be growing (a URL, a key, an address) stays held;
- does not cut through a finding of the check (the cut moves back to before it);
- has itself been checked: the released prefix is what ``check_output`` returns for it, so it is
  redacted, pseudonyms restored, exactly as a non-streamed answer would be.

Once any check blocks, nothing more is released; ``close`` returns the blocking decision. Every
check is an audited decision, so the audit log shows each release.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._unicode import scrub_surrogates
from .decision import Action, Decision

if TYPE_CHECKING:
    from .session import Session


class OutputStream:
    """Feed model chunks in, get checked text out; call ``close`` (or use ``with``) at the end."""

    def __init__(self, session: Session, *, hold_back: int = 256, min_release: int = 256) -> None:
        if hold_back < 0 or min_release < 1:
            raise ValueError("hold_back must be >= 0 and min_release >= 1")
        self.session = session
        self.hold_back = hold_back
        self.min_release = min_release
        self._pending = ""
        self._blocked: Decision | None = None
        self._closed: Decision | None = None

    @property
    def blocked(self) -> bool:
        return self._blocked is not None

    def feed(self, chunk: str) -> str:
        """Add a chunk; return the text that may be shown now (often ``""``)."""
        if not isinstance(chunk, str):
            raise TypeError(f"chunk must be a str, not {type(chunk).__name__}")
        if self._closed is not None:
            raise RuntimeError("stream is closed")
        if self._blocked is not None:
            return ""
        # A UTF-16 pair may arrive split across chunks: keep a trailing high surrogate raw until its
        # partner comes, scrub the rest (checks, vault and regexes need encodable text).
        joined = self._pending + str.__str__(chunk)
        tail = joined[-1:] if joined and "\ud800" <= joined[-1] <= "\udbff" else ""
        self._pending = scrub_surrogates(joined[:len(joined) - len(tail)]) + tail
        if len(self._pending) < self.hold_back + self.min_release:
            return ""
        whole = self.session.check_output(self._pending)
        if whole.action is Action.BLOCK and whole.enforced:
            self._blocked = whole
            return ""
        cut = self._safe_cut(whole)
        if cut <= 0:
            return ""
        head = self.session.check_output(self._pending[:cut])
        if head.action is Action.BLOCK and head.enforced:
            self._blocked = head
            return ""
        self._pending = self._pending[cut:]
        return head.text

    def close(self) -> Decision:
        """Check and return what is left. ``decision.text`` is the final piece to show (empty if blocked)."""
        if self._closed is not None:
            return self._closed
        if self._blocked is not None:
            self._closed = self._blocked
        else:
            self._closed = self.session.check_output(self._pending)
        self._pending = ""
        return self._closed

    def _safe_cut(self, whole: Decision) -> int:
        """The last whitespace position at least ``hold_back`` before the end that splits no finding.

        Findings are in the coordinates of the text after pseudonyms were restored; a cut at
        whitespace never splits a token, so the restored length of the prefix maps it across.
        """
        text = self._pending
        cut = _last_space_before(text, len(text) - self.hold_back)
        spans = [(f.start, f.end) for f in whole.findings if f.end > f.start]
        while cut > 0:
            restored_cut = len(self.session.vault.restore(text[:cut])[0])
            straddling = [s for s, e in spans if s < restored_cut < e]
            if not straddling:
                return cut
            # Move before the earliest straddling finding (in raw coordinates, conservatively).
            shift = restored_cut - min(straddling)
            cut = _last_space_before(text, cut - max(shift, 1))
        return 0

    def __enter__(self) -> OutputStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _last_space_before(text: str, limit: int) -> int:
    """Index just after the last whitespace character before ``limit`` (0 when there is none)."""
    limit = min(max(limit, 0), len(text))
    for i in range(limit - 1, -1, -1):
        if text[i].isspace():
            return i + 1
    return 0
