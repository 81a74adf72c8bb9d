"""Shared fixtures for the LlamaIndex adapter tests: one real Firewall (Presidio, spaCy, audit file)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ctxguard import Firewall, Policy, Session

KEY = b"llamaindex-test-signing-key-0123456789"

POLICY = """
access:
  levels: [public, internal, confidential, secret]
  default_confidentiality: internal
  default_clearance: internal
  tenants:
    acme: {max_clearance: confidential}
    globex: {max_clearance: confidential}
exfiltration:
  allowed_domains: ["acme.com", "*.acme.com"]
tools:
  tools:
    send_email: {class: egress}
    lookup_order: {class: read_only}
"""


@pytest.fixture(scope="module")
def audit_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("audit") / "audit.jsonl"


@pytest.fixture(scope="module")
def fw(audit_path: Path) -> Iterator[Firewall]:
    f = Firewall(Policy.from_yaml(POLICY), signing_key=KEY, audit=audit_path)
    f.warm_up()
    yield f
    f.close()


@pytest.fixture
def acme(fw: Firewall) -> Iterator[Session]:
    with fw.session(principal="alice", tenant="acme", clearance="internal") as s:
        yield s


@pytest.fixture
def globex(fw: Firewall) -> Iterator[Session]:
    with fw.session(principal="gus", tenant="globex", clearance="internal") as s:
        yield s
