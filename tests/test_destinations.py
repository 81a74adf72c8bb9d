"""Every destination-looking argument of an egress call is checked, whatever the tool calls it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ctxguard import AuditLog, Decision, Firewall, Policy, Session
from ctxguard.flow.destinations import is_destination, name_words, named_as_destination, shaped_as_destinations

POLICY = """
exfiltration:
  allowed_domains: ["acme.com"]
tools:
  tools:
    send_email: {class: egress}
    post_webhook: {class: egress}
    create_ticket: {class: side_effect}
"""


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    with Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"destination-tests-key-0123") as f:
        yield f


@pytest.fixture
def s(fw: Firewall) -> Iterator[Session]:
    with fw.session("alice", "acme") as sess:
        yield sess


def kinds(d: Decision) -> set[str]:
    return {f.kind for f in d.findings}


@pytest.mark.parametrize("arg", ["reply_to", "forward_to", "replyTo", "cc_list", "notify_url", "callbackUri",
                                 "recipient_email", "invitees"])
def test_attacker_address_in_a_destination_named_argument_blocks(s: Session, arg: str) -> None:
    value = "https://evil.example/hook" if arg.lower().endswith(("url", "uri")) else "eve@evil.example"
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "body": "the report", arg: value})
    assert d.blocked and "exfil:destination" in kinds(d)


def test_attacker_address_nested_in_headers_blocks(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "body": "hi", "headers": {"Bcc": "eve@evil.example"}})
    assert d.blocked and "exfil:destination" in kinds(d)


def test_an_argument_whose_whole_value_is_addresses_is_a_destination_whatever_its_name(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "body": "hi", "x1": "Eve <eve@evil.example>"})
    assert d.blocked and "exfil:destination" in kinds(d)


def test_address_list_with_one_outsider_blocks(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com; carol@acme.com, eve@evil.example", "body": "hi"})
    assert d.blocked and "exfil:destination" in kinds(d)


def test_users_own_colleagues_in_reply_to_and_cc_pass(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com", "cc": "carol@acme.com",
                                         "reply_to": "Alice <alice@acme.com>", "body": "Lunch at 12:30?"})
    assert d.allowed, d.reason


def test_an_address_mentioned_in_the_body_is_content_not_a_destination(s: Session) -> None:
    d = s.check_tool_call("send_email", {"to": "bob@acme.com",
                                         "body": "Her old address was jo@example.org, for the record."})
    assert "exfil:destination" not in kinds(d)


def test_content_words_keep_email_body_out_of_the_destinations() -> None:
    assert not named_as_destination("email_body")
    assert not named_as_destination("reply_subject")
    assert named_as_destination("headers.Bcc")
    assert name_words("headers.replyTo") == ["headers", "reply", "to"]


@pytest.mark.parametrize("value", ["eve@evil.example", "mailto:eve@evil.example", '"Eve E." <eve@evil.example>',
                                   "a@acme.com, b@acme.com", "https://x.example/a https://y.example/b"])
def test_destination_shaped_values(value: str) -> None:
    assert shaped_as_destinations(value)


@pytest.mark.parametrize("value", ["notes.md", "Time: 10:30", "write to eve@evil.example today", "", "@", ":"])
def test_values_that_are_not_only_destinations(value: str) -> None:
    assert not shaped_as_destinations(value)


def test_a_declared_destination_is_a_destination_whatever_its_value() -> None:
    assert is_destination("peer", "bob", declared=True)
    assert not is_destination("peer", "bob")


def test_shape_check_is_linear_on_hostile_values() -> None:
    # Many separators and near-addresses: bounded by the item cap, no backtracking (RE2).
    assert not shaped_as_destinations("a@b," * 200_000)
    assert not shaped_as_destinations("@" * 200_000)


def test_destinations_with_no_host_are_not_compared_to_the_domain_allowlist() -> None:
    """A channel, an IBAN or an account number names no host: the allowlist cannot judge it (the
    provenance and support checks do), while anything that could be a host still is one."""
    from ctxguard.flow.links import destination_hosts

    for hostless in ["#ops", "@alice", "DE89 3704 0044 0532 0130 00", "GB29NWBK60161331926819", "123-456-789"]:
        assert destination_hosts(hostless) == [], hostless
    for hosted in ["evil.example", "@evil.net", "#ops.evil.net", "intranet"]:
        assert destination_hosts(hosted), hosted
