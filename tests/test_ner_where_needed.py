"""NER runs only on text the policy needs it for (detection.pii.ner: auto), and nothing else changes.

Real spaCy, real Presidio: the default policy lets names through in every direction, so its checks
run no NER and report no PERSON; a policy that pseudonymises names into tools runs NER on tool
arguments only; ``ner: always`` restores NER everywhere; a rule on ``pii:*`` counts as acting.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ctxguard import AuditLog, Firewall, Policy
from ctxguard.decision import Direction
from ctxguard.detect.pii_fast import FastPiiDetector

pytestmark = pytest.mark.slow  # loads spaCy and Presidio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_pii import _sentences  # noqa: E402

TEXT = "Hi, this is Maria Gonzalez (maria.gonzalez@example.com, phone 415-555-0142). My order is late."


def kinds(policy: str, text: str = TEXT) -> tuple[set[str], set[str]]:
    fw = Firewall(Policy.from_yaml(policy) if policy else Policy.default(), audit=AuditLog(None))
    with fw.session("u", "t") as s:
        admitted = {f.kind for f in s.admit(text, source="user").findings}
        called = {f.kind for f in s.check_tool_call("send_email", {"to": "ops@example.com", "body": text}).findings}
    return admitted, called


def test_the_default_policy_lets_names_through_so_runs_no_ner() -> None:
    admitted, called = kinds("")
    assert {"pii:EMAIL_ADDRESS", "pii:PHONE_NUMBER"} <= admitted and "pii:PERSON" not in admitted
    assert "pii:PERSON" not in called


def test_ner_always_reports_names_everywhere() -> None:
    admitted, called = kinds("detection:\n  pii:\n    ner: always\n")
    assert "pii:PERSON" in admitted and "pii:PERSON" in called


def test_names_pseudonymised_into_tools_run_ner_on_tool_arguments_only() -> None:
    admitted, called = kinds("redaction:\n  entities:\n    PERSON: {into_tool: pseudonymize}\n")
    assert "pii:PERSON" not in admitted and "pii:PERSON" in called


def test_a_rule_on_pii_findings_counts_as_acting() -> None:
    policy = ("rules:\n  - name: names-into-model\n    when: {finding: 'pii:*', direction: [into_model]}\n"
              "    action: redact\n")
    p = Policy.from_yaml(policy)
    assert p.acts_on("PERSON", Direction.INTO_MODEL) and not p.acts_on("PERSON", Direction.INTO_TOOL)
    admitted, called = kinds(policy)
    assert "pii:PERSON" in admitted and "pii:PERSON" not in called


def test_naming_one_direction_keeps_the_single_default_of_the_others() -> None:
    p = Policy.from_yaml("redaction:\n  entities:\n    PERSON: {into_tool: pseudonymize}\n")
    assert p.strategy("PERSON", Direction.INTO_MODEL)[0].value == "allow"
    assert p.strategy("PERSON", Direction.INTO_TOOL)[0].value == "pseudonymize"


def test_without_ner_the_pattern_entities_are_found_as_with_it() -> None:
    fast = FastPiiDetector(entities=["EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "US_SSN", "IBAN_CODE",
                                     "IP_ADDRESS", "PERSON", "LOCATION"])
    assert fast.ner_entities == frozenset({"PERSON", "LOCATION"})
    found = 0
    for text, _ in _sentences(300, 77):
        with_ner = {(f.kind, f.start, f.end) for f in fast.detect(text) if f.kind not in ("pii:PERSON", "pii:LOCATION")}
        without = {(f.kind, f.start, f.end) for f in fast.detect(text, ner=False)}
        assert without == with_ner, text
        found += len(without)
    assert found > 30  # the sentences hold e-mails, phones, cards, IP addresses ...
