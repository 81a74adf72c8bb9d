"""Scope: one rule for what a session may retrieve and what it may admit."""

from __future__ import annotations

import pytest

import ctxguard
from ctxguard import Label, Scope
from ctxguard.scope import CONFIDENTIALITY_KEY, TENANT_KEY, TRUST_KEY


@pytest.fixture
def fw(tmp_path):
    f = ctxguard.Firewall(audit=tmp_path / "audit.jsonl")
    yield f
    f.close()


def _label(**kw):
    base = {"source": "retriever:wiki", "trust": "internal", "tenant": "acme", "confidentiality": "internal"}
    return Label(**{**base, **kw})


def test_session_scope_carries_tenant_and_clearance(fw):
    s = fw.session("alice", tenant="acme", clearance="internal")
    sc = s.scope()
    assert (sc.principal, sc.tenant, sc.clearance) == ("alice", "acme", "internal")
    assert sc.visible_tenants == ("acme", "")
    assert "confidential" not in sc.visible_confidentiality
    assert "internal" in sc.visible_confidentiality and "public" in sc.visible_confidentiality


def test_permits_own_and_shared_but_not_other_tenant(fw):
    sc = fw.session("alice", tenant="acme").scope()
    assert sc.permits(_label())
    assert sc.permits(_label(tenant=""))
    assert sc.violations(_label(tenant="globex")) == ["tenant"]
    assert sc.violations(_label(tenant="*mixed*")) == ["tenant"]


def test_unverified_label_is_out_of_scope_for_a_tenant_session(fw):
    sc = fw.session("alice", tenant="acme").scope()
    assert "tenant" in sc.violations(_label(verified=False))


def test_tenantless_session_sees_only_shared_content(fw):
    sc = fw.session("bob", tenant="").scope()
    assert sc.visible_tenants == ("",)
    assert sc.permits(_label(tenant=""))
    assert not sc.permits(_label(tenant="acme"))


def test_clearance_bound(fw):
    sc = fw.session("alice", tenant="acme", clearance="internal").scope()
    assert sc.violations(_label(confidentiality="confidential")) == ["clearance"]
    assert sc.violations(_label(confidentiality="no-such-level")) == ["clearance"]


def test_min_trust_hides_lower_trust_and_joins_the_store_filter(fw):
    s = fw.session("alice", tenant="acme")
    sc = s.scope(min_trust="internal")
    assert sc.permits(_label(trust="internal"))
    assert sc.permits(_label(trust="user"))
    assert sc.violations(_label(trust="untrusted")) == ["trust"]
    assert "untrusted" not in sc.visible_trust and "hostile" not in sc.visible_trust
    assert set(sc.metadata_filter()) == {TENANT_KEY, CONFIDENTIALITY_KEY, TRUST_KEY}
    assert TRUST_KEY not in s.scope().metadata_filter()


def test_unknown_levels_are_refused(fw):
    s = fw.session("alice", tenant="acme")
    with pytest.raises(ValueError, match="unknown trust level"):
        s.scope(min_trust="godlike")
    with pytest.raises(ValueError, match="unknown clearance"):
        Scope("x", "acme", "ultra", fw.policy.confidentiality, fw.policy.trust)


def test_sign_writes_filter_hints_that_match_the_scope(fw):
    s = fw.session("alice", tenant="acme")
    meta = s.sign(s.label_for("doc", "retriever:wiki"))
    assert meta[TENANT_KEY] == "acme"
    assert s.scope().permits_fields(meta)
    other = fw.session("eve", tenant="globex")
    assert not other.scope().permits_fields(meta)
    assert not s.scope().permits_fields({})  # a missing hint is not in scope


def test_admission_uses_the_same_rule(fw):
    s = fw.session("alice", tenant="acme")
    g = fw.session("eve", tenant="globex")
    doc = "Quarterly numbers for the team."
    meta = g.sign(g.label_for(doc, "retriever:wiki"))
    d = s.admit(doc, "retriever:wiki", metadata=meta)
    assert d.blocked and any(f.kind == "scope:tenant" for f in d.findings)
    assert s.admit(doc, "retriever:wiki", metadata=s.sign(s.label_for(doc, "retriever:wiki"))).allowed
