"""The second signal: a side-effect call must be asked for by the user's own words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ctxguard import Action, AuditLog, Firewall, Policy, Session
from ctxguard.flow.support import support, tool_words


def test_tool_names_split_into_words_in_any_style() -> None:
    assert tool_words("GmailSendEmail") == ["gmail", "send", "email"]
    assert tool_words("send_email") == ["send", "email"]
    assert tool_words("bank-transfer-funds") == ["bank", "transfer", "funds"]


@pytest.mark.parametrize(
    ("tool", "instruction"),
    [
        ("GmailSendEmail", "Email the summary to Bob"),
        ("GmailSendEmail", "Please forward the invoice to accounting"),
        ("BankManagerPayBill", "Pay my electricity bill from checking"),
        ("delete_files", "Remove the old drafts"),
        ("ExpediaBooking", "Book me the cheapest flight to Lisbon"),
    ],
)
def test_a_call_whose_action_the_user_named_is_supported(tool: str, instruction: str) -> None:
    assert support(tool, [], [instruction]).supported


@pytest.mark.parametrize(
    ("tool", "instruction"),
    [
        ("GmailSendEmail", "Read my latest email from Bob"),  # "email" as a noun is not a request to send
        ("AmazonPlaceOrder", "Check my order history"),
        ("AugustSmartLockGrantGuestAccess", "Can you fetch me the reviews of the Dell laptop?"),
        ("BankManagerTransferFunds", "What is my account balance?"),
        ("delete_file", "Summarise file 13"),
    ],
)
def test_a_call_the_user_did_not_ask_for_is_unsupported(tool: str, instruction: str) -> None:
    assert not support(tool, [], [instruction]).supported


def test_an_argument_value_the_user_wrote_supports_the_call() -> None:
    result = support("create_ticket", [("title", "printer on floor 3 is jammed")],
                     ["Log this: printer on floor 3 is jammed"])
    assert result.supported and result.why == "value:title"


POLICY = """
tools:
  tools:
    read_inbox: {class: read_only}
    transfer_funds: {class: side_effect}
"""


@pytest.fixture
def s() -> Iterator[Session]:
    fw = Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"support-test-key-0123456789")
    with fw.session("alice", "acme") as sess:
        yield sess


BILL = "Electricity bill, March. Amount due 84.20 EUR. Pay to IBAN DE44500105175407324931 by April 2."


def test_users_payment_with_an_iban_read_from_a_bill_is_allowed(s: Session) -> None:
    s.admit("Pay my electricity bill from the email", source="user")
    s.admit(BILL, source="tool:read_inbox")
    d = s.check_tool_call("transfer_funds", {"iban": "DE44500105175407324931", "amount": "84.20"})
    assert d.action is Action.ALLOW


def test_a_transfer_nobody_asked_for_with_an_iban_from_tool_output_needs_approval(s: Session) -> None:
    s.admit("What did the utility company send me?", source="user")
    s.admit(BILL, source="tool:read_inbox")
    d = s.check_tool_call("transfer_funds", {"iban": "DE44500105175407324931", "amount": "84.20"})
    assert d.blocked  # require_approval, and no approver is configured
    assert "support:unsupported" in {f.kind for f in d.findings}


def test_an_unrequested_call_is_questioned_whenever_untrusted_content_is_in_context(s: Session) -> None:
    # No value traces to the bill and nothing was flagged: untrusted content in context is enough.
    s.admit("What did the utility company send me?", source="user")
    s.admit(BILL, source="tool:read_inbox")
    d = s.check_tool_call("transfer_funds", {"iban": "DE89370400440532013000", "amount": "10"})
    assert "support:unsupported" in {f.kind for f in d.findings}


def test_check_support_when_injected_keeps_the_narrower_trigger() -> None:
    policy = POLICY.replace("tools:\n", "tools:\n  check_support_when: injected\n", 1)
    fw = Firewall(Policy.from_yaml(policy), audit=AuditLog(None), signing_key=b"support-test-key-0123456789")
    with fw.session("alice", "acme") as s:
        s.admit("What did the utility company send me?", source="user")
        s.admit(BILL, source="tool:read_inbox")
        d = s.check_tool_call("transfer_funds", {"iban": "DE89370400440532013000", "amount": "10"})
        assert "support:unsupported" not in {f.kind for f in d.findings}


def test_no_untrusted_content_no_question() -> None:
    fw = Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"support-test-key-0123456789")
    with fw.session("alice", "acme") as s:
        s.admit("What is the weather like?", source="user")
        d = s.check_tool_call("transfer_funds", {"iban": "DE89370400440532013000", "amount": "10"})
        assert "support:unsupported" not in {f.kind for f in d.findings}
