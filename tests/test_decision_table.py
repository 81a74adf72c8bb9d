"""The decision table: one compiled, ordered, first-match list decides every finding (issue 12).

Findings only find; every action in a decision comes from ``Policy.decisions``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ctxguard import Action, AuditLog, Direction, Finding, Firewall, Policy
from ctxguard.decision import Ruling
from ctxguard.detect.validators import github_token
from ctxguard.policy.table import Facts

TOKEN = github_token("ghp_", "Zq8Lm3Tr9Vw2Kp7nYc4BdJ6sHf1GtA")

POLICY = """
tools:
  tools:
    create_ticket: {class: side_effect}
rules:
  - name: first-email
    when: {finding: "pii:EMAIL_ADDRESS", direction: [into_tool]}
    action: allow
  - name: second-email
    when: {finding: "pii:EMAIL_*"}
    action: block
  - name: redact-secrets
    when: {finding: "secret:*", tool: create_ticket}
    action: redact
"""


@pytest.fixture(scope="module")
def fw() -> Iterator[Firewall]:
    with Firewall(Policy.from_yaml(POLICY), audit=AuditLog(None), signing_key=b"decision-table-key-0123") as f:
        yield f


def facts(kind: str, detector: str = "test", direction: Direction = Direction.INTO_MODEL, tool: str = "") -> Facts:
    return Facts(kind, detector, direction, "user", "user", tool)


def test_user_rules_come_first_in_order_and_the_table_ends_in_a_catch_all() -> None:
    names = Policy.from_yaml(POLICY).decisions.describe()
    assert names[:3] == ["rules.first-email", "rules.second-email", "rules.redact-secrets"]
    assert names.index("redaction.entities") > 2
    assert names[-1] == "detection"


def test_the_first_matching_entry_decides() -> None:
    table = Policy.from_yaml(POLICY).decisions
    into_tool = table.decide(facts("pii:EMAIL_ADDRESS", direction=Direction.INTO_TOOL))
    into_model = table.decide(facts("pii:EMAIL_ADDRESS"))
    assert (into_tool.action, into_tool.rule) == (Action.ALLOW, "rules.first-email")
    assert (into_model.action, into_model.rule) == (Action.BLOCK, "rules.second-email")


def test_a_kind_no_entry_names_blocks() -> None:
    verdict = Policy.default().decisions.decide(facts("custom:thing"))
    assert (verdict.action, verdict.rule) == (Action.BLOCK, "detection")


def test_findings_carry_no_action_and_decisions_carry_rulings(fw: Firewall) -> None:
    assert not hasattr(Finding("d", "pii:X", 0, 1, 1.0), "action")
    with fw.session("alice") as s:
        d = s.admit("Write to jane.doe@example.com", source="user")
    assert d.findings and all(isinstance(r, Ruling) for r in d.findings)
    assert {(r.kind, r.action, r.rule) for r in d.findings} == {("pii:EMAIL_ADDRESS", Action.BLOCK,
                                                                  "rules.second-email")}


def test_a_rule_that_redacts_a_secret_split_across_arguments_blocks_instead(fw: Firewall) -> None:
    """No edit can reach a secret cut across two arguments; a redact there would pass it whole."""
    with fw.session("alice") as s:
        split = s.check_tool_call("create_ticket", {"a": TOKEN[:14], "b": TOKEN[14:]})
        whole = s.check_tool_call("create_ticket", {"body": f"token {TOKEN}"})
    assert split.blocked and "cannot be redacted in place" in split.reason
    assert whole.action is Action.REDACT and TOKEN not in str(whole.args)


def test_a_value_from_trusted_content_is_not_reported() -> None:
    table = Policy.default().decisions
    assert not table.decide(facts("provenance:user", tool="send_email")).reported
    hostile = table.decide(facts("provenance:hostile", tool="send_email"))
    assert hostile.reported and hostile.action is Action.BLOCK


def test_on_value_from_redact_cannot_edit_a_whole_value_so_it_blocks() -> None:
    policy = Policy.from_yaml("tools:\n  on_value_from: {untrusted: redact}\n")
    verdict = policy.decisions.decide(facts("provenance:untrusted", tool="send_email"))
    assert verdict.action is Action.BLOCK and verdict.reason == "cannot be redacted in place"


def test_a_user_rule_on_provenance_sees_values_the_built_in_section_allows() -> None:
    policy = Policy.from_yaml("""
rules:
  - name: ask-for-external
    when: {finding: "provenance:external"}
    action: require_approval
""")
    verdict = policy.decisions.decide(facts("provenance:external", tool="send_email"))
    assert (verdict.action, verdict.rule) == (Action.REQUIRE_APPROVAL, "rules.ask-for-external")


def test_a_redaction_in_a_bytes_or_number_argument_blocks_rather_than_pass_it_raw() -> None:
    """Bytes and numbers are read as text, but no edit can be written back into them."""
    policy = Policy.from_yaml("""
tools:
  tools:
    create_ticket: {class: side_effect}
redaction:
  entities:
    EMAIL_ADDRESS: {into_tool: redact}
""")
    with Firewall(policy, audit=AuditLog(None)) as fw, fw.session("alice") as s:
        as_text = s.check_tool_call("create_ticket", {"body": "mail jane.doe@example.com"})
        as_bytes = s.check_tool_call("create_ticket", {"body": b"mail jane.doe@example.com"})
        nested = s.check_tool_call("create_ticket", {"body": {"cc": [b"jane.doe@example.com"]}})
        clean = s.check_tool_call("create_ticket", {"body": b"nothing to see"})
    assert as_text.action is Action.REDACT and "jane.doe" not in str(as_text.args)
    assert as_bytes.blocked and nested.blocked and as_bytes.args == {}
    assert clean.action is Action.ALLOW and clean.args == {"body": b"nothing to see"}
