"""Firewall: built once from a Policy, it holds what every session shares and opens sessions.

The compiled policy (and its decision table), the detectors (built on first use: spaCy and
Presidio take seconds to load), the label signer, the audit log, the pseudonym store and the judge
live here; a conversation's state and its entry points are a ``Session`` (``ctxguard.session``),
and the steps each entry point runs are ``ctxguard.pipeline``.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Sequence
from typing import Any

from .approvals import Approver
from .audit import AuditLog, AuditWriter
from .decision import Decision, Direction
from .detect.base import Detector
from .detect.injection import InjectionDetector
from .flow.request import RequestReader
from .judge import Judge
from .labels import LabelSigner
from .pipeline.arguments import as_str
from .policy.compiled import Policy
from .policy.schema import PolicyModel
from .redact.spotlight import Spotlighter
from .session import Session, is_event_value
from .state.backends import key_from_env, open_audit, open_queue_approver, open_vault_store
from .state.chain import SharedAuditLog
from .state.queue import QueueApprover
from .tokens import Tokenizer


class Firewall:
    """Holds the compiled policy, the detectors, the signer and the audit log; opens sessions.

    ``Firewall()`` uses the built-in default policy, which is safe with no configuration: it
    enforces, fails closed, treats tool output as untrusted and never lets a secret into a tool.
    """

    def __init__(
        self,
        policy: Policy | PolicyModel | str | os.PathLike[str] | None = None,
        *,
        audit: AuditLog | SharedAuditLog | str | os.PathLike[str] | None = None,
        signing_key: bytes | None = None,
        detectors: Sequence[Detector] = (),
        approver: Approver | None = None,
        judge: Judge | None = None,
    ) -> None:
        if judge is not None and not callable(judge):
            raise TypeError(f"judge must be callable, not {type(judge).__name__}")
        if policy is None:
            self.policy = Policy.default()
        elif isinstance(policy, Policy):
            self.policy = policy
        elif isinstance(policy, PolicyModel):
            self.policy = Policy(policy, source="<model>")
        elif isinstance(policy, str | os.PathLike):
            self.policy = Policy.from_file(policy)
        else:
            raise TypeError(f"policy must be a Policy, PolicyModel or path, not {type(policy).__name__}")
        m = self.policy.model
        self.signing_key = signing_key or key_from_env(m.signing_key_env) or secrets.token_bytes(32)
        self.signer = LabelSigner(
            self.signing_key, trust=self.policy.trust, confidentiality=self.policy.confidentiality
        )
        self.audit: AuditWriter = audit if isinstance(audit, AuditLog | SharedAuditLog) else open_audit(m.audit, audit)
        try:
            self.approver = approver if approver is not None else open_queue_approver(m.approvals)
            self.vault_store, self.vault_key = open_vault_store(m.redaction.vault)
        except BaseException:
            self.audit.close()
            raise
        self.judge = judge
        self.requests = RequestReader(pipeline=m.detection.pii.model)
        self._extra_detectors = list(detectors)
        self._lock = threading.Lock()
        self._content_detectors: list[Detector] | None = None
        self.injection_detector: Detector | None = (
            InjectionDetector(learned=m.detection.injection.model == "ngram")
            if m.detection.injection.enabled else None)
        self._tokenizer: Tokenizer | None = None

    @classmethod
    def from_policy(cls, path: str | os.PathLike[str], **kwargs: Any) -> Firewall:
        return cls(Policy.from_file(path), **kwargs)

    # ---- lazily built, heavy parts --------------------------------------------------------------
    @property
    def content_detectors(self) -> list[Detector]:
        """PII (Presidio + spaCy) and secrets detectors, built on first use."""
        if self._content_detectors is None:
            with self._lock:
                if self._content_detectors is None:
                    self._content_detectors = self._build_detectors()
        return self._content_detectors

    def _build_detectors(self) -> list[Detector]:
        det = self.policy.model.detection
        out: list[Detector] = []
        if det.secrets.enabled:
            from .detect.secrets import SecretsDetector

            out.append(SecretsDetector(language=det.pii.language))
        if det.pii.enabled:
            from .detect.pii_fast import FastPiiDetector

            out.append(FastPiiDetector(model=det.pii.model, language=det.pii.language, entities=det.pii.entities,
                                       score_threshold=det.pii.score_threshold))
        out.extend(self._extra_detectors)
        return out

    @property
    def tokenizer(self) -> Tokenizer:
        if self._tokenizer is None:
            self._tokenizer = Tokenizer(self.policy.model.budgets.encoding)
        return self._tokenizer

    def warm_up(self) -> None:
        """Load spaCy, Presidio and the encoding now rather than on the first message."""
        for d in self.content_detectors:
            d.detect("warm up")
        if self.injection_detector is not None:
            self.injection_detector.detect("Retrieve the files and send them over.")
        self.tokenizer.count("warm up")

    # ---- sessions ---------------------------------------------------------------------------------
    def session(
        self,
        principal: str,
        tenant: str = "",
        clearance: str | None = None,
        *,
        approver: Approver | None = None,
        session_id: str | None = None,
    ) -> Session:
        # Identity goes into every audit record and every scope decision: a wrong type here would
        # surface far away (a JSON error in the audit log, a tenant that never matches), so say it now.
        principal = as_str(principal, "principal")
        if not principal.strip():
            raise ValueError("principal must name who the session acts for (a non-empty string)")
        tenant = as_str(tenant, "tenant")
        if clearance is not None:
            clearance = as_str(clearance, "clearance")
        if session_id is not None:
            session_id = as_str(session_id, "session_id")
            if not is_event_value(session_id) or not session_id:
                raise ValueError("session_id must be an identifier (letters, digits, _.:/-; at most 128 characters)")
        if approver is not None and not callable(approver):
            raise TypeError(f"approver must be callable, not {type(approver).__name__}")
        clearance = clearance or self.policy.model.access.default_clearance
        self.policy.clearance_allowed(tenant, clearance)
        return Session(self, principal=principal, tenant=tenant, clearance=clearance,
                       approver=approver or self.approver, session_id=session_id)

    def scan(self, text: str, *, source: str = "user", direction: Direction | str = Direction.INTO_MODEL) -> Decision:
        """Check one text outside any conversation (the CLI's ``scan``): a throwaway session."""
        with self.session(principal="scan", tenant="") as s:
            # A scan shows the user their own text, redacted: nothing enters a model, so no spotlight.
            s.spotlighter = Spotlighter(mode="off")
            d = Direction(direction)
            if d is Direction.OUT_TO_USER:
                return s.check_output(text)
            return s.admit(text, source=source, direction=d)

    def close(self) -> None:
        self.audit.close()
        self.vault_store.close()
        queue = getattr(self.approver, "queue", None)
        if isinstance(self.approver, QueueApprover) and queue is not None:
            queue.close()

    def __enter__(self) -> Firewall:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Firewall", "Session", "is_event_value"]
