"""The Detector contract every check shares: text in, findings out.

A detector never decides and never rewrites; it reports spans with a kind and a score. The
pipeline hashes the values, applies the policy and records the outcome, so a new detector
(a user's classifier, a secrets table entry) needs no knowledge of policy or audit.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..decision import Finding


@runtime_checkable
class Detector(Protocol):
    """Anything with a ``name`` and ``detect(text) -> list[Finding]``.

    Findings' spans index into the ``text`` given. Raise on internal failure: the pipeline turns an
    exception into a fail-closed decision and audits it; never swallow errors here.
    """

    name: str

    def detect(self, text: str) -> list[Finding]: ...
