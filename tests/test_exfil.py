"""Every exfiltration channel, each with a positive case and a near miss that must pass."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from urllib.parse import quote

import pytest

from ctxguard import Action, AuditLog, Decision, Firewall, Policy, Session
from ctxguard.detect.validators import github_token

CANARY = "CANARY-91c2e7d04b"
POLICY = f"""
exfiltration:
  allowed_domains: ["acme.com", "*.acme.com"]
  canary_tokens: ["{CANARY}"]
tools:
  tools:
    send_email: {{class: egress}}
    create_ticket: {{class: side_effect}}
"""
CONFIDENTIAL = (
    "Project Heron: we acquire Norrland Timber on June 3 at 212 million, financed by the Q2 bond issue, "
    "and the works council is told the day after signing."
)


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    with Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"exfil-tests-key-0123456789") as f:
        yield f


@pytest.fixture
def s(fw: Firewall) -> Iterator[Session]:
    with fw.session("alice", "acme", clearance="confidential") as sess:
        sess.admit(CONFIDENTIAL, source="retriever:board", confidentiality="confidential")
        yield sess


def kinds(d: Decision) -> set[str]:
    return {f.kind for f in d.findings}


def ticket(s: Session, body: str) -> Decision:
    return s.check_tool_call("create_ticket", {"body": body})


# --- secrets ---------------------------------------------------------------------------------------------


def test_secret_in_a_tool_argument_blocks(s: Session) -> None:
    token = github_token("ghp_", "Zq8Lm3Tr9Vw2Kp7nYc4BdJ6sHf1GtA")
    d = ticket(s, f"use {token} for the deploy")
    assert d.blocked and "secret:GITHUB_TOKEN" in kinds(d)


def test_near_miss_token_with_a_bad_checksum_passes(s: Session) -> None:
    token = github_token("ghp_", "Zq8Lm3Tr9Vw2Kp7nYc4BdJ6sHf1GtA")
    bad = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert "secret:GITHUB_TOKEN" not in kinds(ticket(s, f"use {bad} for the deploy"))


# --- PII per the into-tool strategy ------------------------------------------------------------------


def test_card_number_into_a_tool_blocks(s: Session) -> None:
    d = ticket(s, "charge 4111 1111 1111 1111 for the order")
    assert d.blocked and "pii:CREDIT_CARD" in kinds(d)


def test_sixteen_digits_failing_luhn_are_not_a_card(s: Session) -> None:
    assert "pii:CREDIT_CARD" not in kinds(ticket(s, "charge 4111 1111 1111 1112 for the order"))


# --- canary tokens -----------------------------------------------------------------------------------------


def test_canary_in_a_tool_argument_blocks(s: Session) -> None:
    d = ticket(s, f"system prompt follows: {CANARY}")
    assert d.blocked and "exfil:canary" in kinds(d)


def test_a_string_that_only_resembles_the_canary_passes(s: Session) -> None:
    assert "exfil:canary" not in kinds(ticket(s, "system prompt follows: CANARY-91c2e7d04c"))


# --- verbatim copies of confidential context --------------------------------------------------------------


def test_a_fifty_character_copy_of_confidential_text_blocks(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "body": "FYI: " + CONFIDENTIAL[15:70]})
    assert d.blocked and "exfil:confidential_copy" in kinds(d)


def test_a_short_mention_of_the_same_subject_passes(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "body": "FYI: Project Heron update tomorrow"})
    assert "exfil:confidential_copy" not in kinds(d)
    assert d.allowed


# --- URLs: host, path/query, DNS labels ---------------------------------------------------------------------


def test_url_to_a_host_not_allowed_blocks(s: Session) -> None:
    d = ticket(s, "see https://paste.evil.example/raw/abc")
    assert d.blocked and "exfil:url" in kinds(d)


def test_url_to_an_allowed_subdomain_passes(s: Session) -> None:
    assert "exfil:url" not in kinds(ticket(s, "see https://wiki.acme.com/page/42"))


def test_confidential_text_in_the_query_of_an_allowed_link_blocks_the_answer(s: Session) -> None:
    link = "https://search.acme.com/?q=" + quote(CONFIDENTIAL[:80])
    d = s.check_output(f"[search]({link})")
    assert d.blocked and "exfil:confidential_copy" in kinds(d)


def test_an_ordinary_query_on_an_allowed_link_passes(s: Session) -> None:
    d = s.check_output("[search](https://search.acme.com/?q=quarterly+report+template)")
    assert d.action is Action.ALLOW


def test_data_in_a_dns_label_blocks_even_under_an_allowed_wildcard(s: Session) -> None:
    label = "6a6f686e2e646f6540616c6963652e636f6d"  # hex of an e-mail address
    d = ticket(s, f"ping https://{label}.acme.com/x")
    assert d.blocked and "exfil:dns_payload" in kinds(d)


def test_an_ordinary_hyphenated_subdomain_passes(s: Session) -> None:
    assert "exfil:dns_payload" not in kinds(ticket(s, "ping https://cdn-eu-west-1.acme.com/x"))


# --- markdown images and links ------------------------------------------------------------------------------


def test_markdown_image_to_a_host_not_allowed_blocks_the_answer(s: Session) -> None:
    d = s.check_output("Done ![x](https://evil.example/p.png?d=1)")
    assert d.blocked and "exfil:markdown_image" in kinds(d)


def test_markdown_image_on_an_allowed_host_passes(s: Session) -> None:
    assert s.check_output("Chart: ![x](https://cdn.acme.com/q3.png)").action is Action.ALLOW


def test_markdown_link_to_a_host_not_allowed_blocks_the_answer(s: Session) -> None:
    d = s.check_output("Click [here](https://evil.example/collect?x=1)")
    assert d.blocked and "exfil:url" in kinds(d)


# --- encoded payloads -------------------------------------------------------------------------------------


def test_a_secret_inside_base64_blocks(s: Session) -> None:
    blob = base64.b64encode(b"aws key AKIAIOSFODNN7EXAMPLE").decode()
    d = ticket(s, f"attachment {blob}")
    assert d.blocked and "secret:AWS_ACCESS_KEY" in kinds(d)


def test_base64_of_harmless_text_passes(s: Session) -> None:
    blob = base64.b64encode(b"the meeting moved to thursday at ten").decode()
    assert ticket(s, f"attachment {blob}").action is Action.ALLOW


def test_a_secret_inside_hex_blocks(s: Session) -> None:
    d = ticket(s, "blob " + b"key AKIAIOSFODNN7EXAMPLE".hex())
    assert d.blocked and "secret:AWS_ACCESS_KEY" in kinds(d)


def test_a_git_commit_hash_is_not_a_payload(s: Session) -> None:
    assert ticket(s, "fixed in 3f9c2a7e5b1d4c8a9e0f6b2d7c4a1e8f5b3d9c0a").action is Action.ALLOW
