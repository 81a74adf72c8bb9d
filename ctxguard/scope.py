"""What one principal may see: the retrieval scope, derived from a session and never from content.

A ``Scope`` is built from the session's tenant and clearance (which the policy checked when the
session opened). Retrievers and the memory store ask it two questions: *which stored entries may be
searched at all* (``metadata_filter`` / ``permits_fields``, applied inside the store's search, before
ranking) and *may this verified label enter the context* (``permits``, applied again to every result,
on the signed label). The query text and the model have no way to reach either: the filter is a
value of the principal, not a parameter of the search.

The tenant rule is the one ``Session.admit`` enforces: content labelled for another tenant is out of
scope; content with no tenant is shared; a label that failed verification proves nothing about its
tenant, so it is out of scope for any session that has one. Confidentiality must be at or below the
clearance. ``min_trust`` optionally hides content below a trust level (a memory written from a tool
output, say) from a caller that asks for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .labels import Label, Levels

# Plain (unsigned) copies of three label fields, written beside the signed label so that a vector
# store can filter on them inside its search. They are hints for the store only: every result is
# checked again on the signed label, so a forged hint can hide a document but never reveal one.
TENANT_KEY = "ctxguard_tenant"
CONFIDENTIALITY_KEY = "ctxguard_confidentiality"
TRUST_KEY = "ctxguard_trust"
SHARED_TENANT = ""


def filter_fields(label: Label) -> dict[str, str]:
    """The store-side filter hints for ``label`` (merge them into metadata with the signed label)."""
    return {TENANT_KEY: label.tenant, CONFIDENTIALITY_KEY: label.confidentiality, TRUST_KEY: label.trust}


@dataclass(frozen=True, slots=True)
class Scope:
    """A principal's view: tenant, the confidentiality levels it is cleared for, the trust levels it accepts."""

    principal: str
    tenant: str
    clearance: str
    confidentiality: Levels
    trust: Levels
    min_trust: str | None = None

    def __post_init__(self) -> None:
        if self.clearance not in self.confidentiality:
            raise ValueError(f"unknown clearance {self.clearance!r}")
        if self.min_trust is not None and self.min_trust not in self.trust:
            raise ValueError(f"unknown trust level {self.min_trust!r}; declared: {list(self.trust.names)}")

    # ---- what the store filters on ---------------------------------------------------------------
    @property
    def visible_tenants(self) -> tuple[str, ...]:
        """This tenant and shared content; a session with no tenant sees only shared content."""
        return (self.tenant, SHARED_TENANT) if self.tenant else (SHARED_TENANT,)

    @property
    def visible_confidentiality(self) -> tuple[str, ...]:
        """Confidentiality levels at or below the clearance, lowest first."""
        bound = self.confidentiality.rank(self.clearance)
        return tuple(n for n in self.confidentiality.names if self.confidentiality.rank(n) <= bound)

    @property
    def visible_trust(self) -> tuple[str, ...]:
        """Trust levels at or above ``min_trust`` (all of them when it is unset)."""
        if self.min_trust is None:
            return tuple(self.trust.names)
        bound = self.trust.rank(self.min_trust)
        return tuple(n for n in self.trust.names if self.trust.rank(n) >= bound)

    def metadata_filter(self) -> dict[str, tuple[str, ...]]:
        """Field -> allowed values, all to hold at once (AND of IN-lists): the store-side filter."""
        out = {TENANT_KEY: self.visible_tenants, CONFIDENTIALITY_KEY: self.visible_confidentiality}
        if self.min_trust is not None:
            out[TRUST_KEY] = self.visible_trust
        return out

    def permits_fields(self, metadata: Mapping[str, Any]) -> bool:
        """Whether the plain filter hints in ``metadata`` fall inside this scope (missing hints do not)."""
        return all(metadata.get(key) in allowed for key, allowed in self.metadata_filter().items())

    # ---- what the context admits -----------------------------------------------------------------
    def violations(self, label: Label) -> list[str]:
        """Why ``label`` is out of scope: any of ``tenant``, ``clearance``, ``trust`` (empty: in scope)."""
        out = []
        claimed_elsewhere = bool(label.tenant and self.tenant and label.tenant != self.tenant)
        if (
            claimed_elsewhere
            or label.tenant == "*mixed*"
            or (not label.verified and bool(self.tenant))
            or (label.tenant and not self.tenant)
        ):
            out.append("tenant")
        if label.confidentiality not in self.confidentiality or self.confidentiality.rank(
            label.confidentiality
        ) > self.confidentiality.rank(self.clearance):
            out.append("clearance")
        if self.min_trust is not None and (
            label.trust not in self.trust or self.trust.rank(label.trust) < self.trust.rank(self.min_trust)
        ):
            out.append("trust")
        return out

    def permits(self, label: Label) -> bool:
        return not self.violations(label)
