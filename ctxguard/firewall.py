"""Firewall (built once from a Policy) and Session (one principal's conversation): the pipeline.

Every entry point runs the same steps:

    content + source -> label -> normalise + detect -> decide -> transform -> record -> Decision

``admit`` (content entering the context), ``check_tool_call`` (before a tool runs) and
``check_output`` (before an answer leaves) differ only in which findings they gather: the decide,
transform and record steps are shared (``_conclude``). Any exception inside a check becomes a
``block`` decision (or ``allow`` when the policy opts into ``on_error: allow``) and is audited with
the exception's type, never its message, which might quote the content.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from ._patterns import compile_linear
from ._unicode import scrub_surrogates
from .approvals import ApprovalRequest, ApprovalResult, ApprovalTimeout, Approver, ask_approver
from .audit import AuditLog, is_log_safe_name, log_safe_name
from .decision import Action, Decision, Direction, Finding
from .detect.base import Detector
from .detect.decode import scan_with_decoding
from .detect.injection import InjectionDetector
from .detect.normalize import normalize
from .detect.views import concealed_views
from .errors import Blocked, ConfigurationError
from .flow.authorisation import Authoriser
from .flow.destinations import is_destination, shaped_as_destinations
from .flow.exfil import Fingerprints, canary_findings, destination_hosts, host_allowed, url_findings
from .flow.provenance import SegmentStore, is_identifier
from .flow.request import RequestReader
from .flow.support import ToolSpec
from .judge import Judge
from .labels import Label, LabelSigner, join
from .policy.compiled import Policy
from .policy.schema import PolicyModel, Strategy, ToolClass, ToolPolicy, VaultPolicy
from .redact.spotlight import Spotlighter
from .redact.stores import MemoryVaultStore, SQLiteVaultStore, VaultStore
from .redact.strategies import Edit, apply, keyed_hash
from .redact.vault import PseudonymVault
from .scope import Scope, filter_fields
from .stream import OutputStream
from .tokens import BudgetLedger, Tokenizer

# Encoded payloads decoded and scanned per check; past this the check reports limits:decode (blocks).
MAX_DECODED_SPANS = 256

# What Session.record_event accepts as a string value: identifiers, class names, hashes; never prose.
_SAFE_EVENT_VALUE = compile_linear(r"[A-Za-z0-9_.:/\-]{0,128}")


def is_event_value(value: str) -> bool:
    """Whether ``record_event`` takes ``value`` as it is (an identifier or hash, not prose)."""
    return _SAFE_EVENT_VALUE.fullmatch(value) is not None

# Detectors whose findings no in-place edit can remove: a transformed view of a value, a secret split
# across arguments, an argument name.
_VIEW_DETECTOR = "secrets+view:"  # + the view's name
_SPLIT_DETECTOR = "secrets+split"
_UNREDACTABLE = (_VIEW_DETECTOR, _SPLIT_DETECTOR)


def _entity(kind: str) -> tuple[str, str]:
    """(policy entity name, display name) for a finding kind: pii:EMAIL_ADDRESS, secret:AWS_ACCESS_KEY."""
    family, _, name = kind.partition(":")
    if family == "secret":
        return f"SECRET:{name}", f"SECRET_{name}"
    return name, name


class Firewall:
    """Holds the compiled policy, the detectors, the signer and the audit log; opens sessions.

    ``Firewall()`` uses the built-in default policy, which is safe with no configuration: it
    enforces, fails closed, treats tool output as untrusted and never lets a secret into a tool.
    """

    def __init__(
        self,
        policy: Policy | PolicyModel | str | os.PathLike[str] | None = None,
        *,
        audit: AuditLog | str | os.PathLike[str] | None = None,
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
        self.signing_key = signing_key or _key_from_env(m.signing_key_env) or secrets.token_bytes(32)
        self.signer = LabelSigner(
            self.signing_key, trust=self.policy.trust, confidentiality=self.policy.confidentiality
        )
        if isinstance(audit, AuditLog):
            self.audit = audit
        else:
            path = audit if audit is not None else m.audit.path
            self.audit = AuditLog(path, key=_key_from_env(m.audit.key_env), fsync=m.audit.fsync)
        self.approver = approver
        self.judge = judge
        self.requests = RequestReader(pipeline=m.detection.pii.model)
        self.vault_store, self.vault_key = _open_vault_store(m.redaction.vault)
        self._extra_detectors = list(detectors)
        self._lock = threading.Lock()
        self._content_detectors: list[Detector] | None = None
        self._injection: Detector | None = (
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
        if self._injection is not None:
            self._injection.detect("Retrieve the files and send them over.")
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
        principal = _as_str(principal, "principal")
        if not principal.strip():
            raise ValueError("principal must name who the session acts for (a non-empty string)")
        tenant = _as_str(tenant, "tenant")
        if clearance is not None:
            clearance = _as_str(clearance, "clearance")
        if session_id is not None:
            session_id = _as_str(session_id, "session_id")
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

    def __enter__(self) -> Firewall:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _open_vault_store(cfg: VaultPolicy) -> tuple[VaultStore, bytes]:
    """The Firewall's one pseudonym store and its key; sessions share the store, scoped apart.

    A persistent store without a key from the environment is refused here, at start-up, rather than
    at the first pseudonym: its tokens would be unreadable after a restart.
    """
    key = _key_from_env(cfg.key_env)
    if cfg.store == "sqlite":
        if key is None:
            raise ConfigurationError(
                f"the sqlite pseudonym vault needs a key: set {cfg.key_env} (at least 16 bytes) before starting"
            )
        return SQLiteVaultStore(cfg.path or ""), key
    return MemoryVaultStore(), key or secrets.token_bytes(32)


def _key_from_env(var: str) -> bytes | None:
    value = os.environ.get(var)
    return value.encode("utf-8") if value else None


class Session:
    """One principal's conversation: its scope, its admitted segments, its budget, its vault."""

    def __init__(
        self,
        firewall: Firewall,
        *,
        principal: str,
        tenant: str,
        clearance: str,
        approver: Approver | None,
        session_id: str | None,
    ) -> None:
        self.firewall = firewall
        self.policy = firewall.policy
        self.principal = principal
        self.tenant = tenant
        self.clearance = clearance
        self.approver = approver
        self.id = session_id or uuid.uuid4().hex[:16]
        self.segments = SegmentStore(hostile_trust=self.policy.model.trust.flagged)
        self.fingerprints = Fingerprints()
        vault_cfg = self.policy.model.redaction.vault
        self.vault = PseudonymVault(firewall.vault_store, tenant=tenant, session=self.id, key=firewall.vault_key,
                                    surrogates=vault_cfg.surrogates)
        self.budget = BudgetLedger(session_limit=self.policy.model.budgets.session_max_tokens)
        self.spotlighter = Spotlighter(mode=self.policy.model.spotlight.mode)
        self.closed = False
        self.authoriser = Authoriser(self.segments, self.policy, firewall.requests, firewall.judge)
        # The end of the last untrusted text scanned for injection: read with the next one's start.
        self._untrusted_tail = ""
        self._record({"type": "session_start", "clearance": clearance})

    # ---- context manager --------------------------------------------------------------------------
    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._record({"type": "session_end", "segments": len(self.segments.segments)})

    # ---- labels -----------------------------------------------------------------------------------
    def label_for(self, text: str, source: str, *, confidentiality: str | None = None) -> Label:
        return Label.for_text(
            text, source=source, trust=self.policy.trust_for_source(source), tenant=self.tenant,
            confidentiality=confidentiality or self.policy.model.access.default_confidentiality,
        )

    def sign(self, label: Label) -> dict[str, str]:
        """Metadata entries carrying ``label``, signed, for a Document or node.

        Beside the signed label go plain copies of its tenant, confidentiality and trust, so a vector
        store can filter on them inside its search (see ``ctxguard.scope``); the signed label stays the
        authority when the content comes back.
        """
        return {**self.firewall.signer.sign(label), **filter_fields(label)}

    def scope(self, *, min_trust: str | None = None) -> Scope:
        """What this session may retrieve: its tenant and clearance (and, optionally, a trust floor)."""
        return Scope(principal=self.principal, tenant=self.tenant, clearance=self.clearance,
                     confidentiality=self.policy.confidentiality, trust=self.policy.trust, min_trust=min_trust)

    def content_hmac(self, text: str) -> str:
        """A keyed hash that identifies ``text`` in the audit log without revealing it."""
        return keyed_hash(self.firewall.signing_key, text, 64)

    def record_event(self, type: str, **fields: str | int | float | bool | None) -> str:
        """Append an adapter's observation (a retrieval, a framework event) to the audit log.

        Only identifiers, numbers and hashes may go in: a string field must look like an identifier
        (no spaces, at most 128 characters), so prose, prompts and values are refused with a
        ``ValueError`` rather than written. Hash content with ``content_hmac`` first.
        """
        if not is_event_value(type) or type in ("decision", "approval", "session_start", "session_end"):
            raise ValueError("event type must be an identifier and not one the firewall writes itself")
        for key, value in fields.items():
            if key in ("session", "principal", "tenant", "type"):
                raise ValueError(f"event field {key!r} is reserved")
            if isinstance(value, str) and not is_event_value(value):
                raise ValueError(f"event field {key!r} is not an identifier or hash; record content_hmac(text)")
            if value is not None and not isinstance(value, str | int | float | bool):
                raise ValueError(f"event field {key!r} must be a str, number, bool or None")
        return self._record({"type": type, **fields})

    def provenance(self, value: str) -> list[Label]:
        """Labels of the admitted segments that contain ``value`` (after folding case and spacing)."""
        return [s.label for s in self.segments.suppliers(value)]

    # ---- entry points -----------------------------------------------------------------------------
    def admit(
        self,
        text: str,
        source: str = "user",
        *,
        label: Label | None = None,
        metadata: Mapping[str, Any] | None = None,
        confidentiality: str | None = None,
        direction: Direction | str = Direction.INTO_MODEL,
    ) -> Decision:
        """Content entering the context (or memory, with ``direction="into_memory"``).

        The label comes from ``label`` (trusted caller), else from signed ``metadata`` (verified; a
        bad signature gives the lowest trust), else from the policy's source map.
        """
        text = _as_str(text, "text")
        source = _as_str(source, "source")
        direction = Direction(direction)
        if label is None:
            if metadata is not None:
                label = self.firewall.signer.verify(metadata, text, source=source)
            else:
                label = self.label_for(text, source, confidentiality=confidentiality)

        def gather() -> tuple[list[Finding], dict[str, Any]]:
            findings: list[Finding] = []
            ctx: dict[str, Any] = {"label": label}
            findings += self._scope_findings(label)
            body = text
            budget_findings, body, tokens = self._budget(body, source)
            findings += budget_findings
            ctx["text"] = body
            ctx["tokens"] = tokens
            findings += self._content_findings(body)
            findings += self._injection_findings(body, label)
            return findings, ctx

        return self._run("admit", direction, text, label, gather, source=source)

    def check_tool_call(self, tool: str, args: Mapping[str, Any]) -> Decision:
        """A tool call before it runs: argument rules, provenance, exfiltration, then approval."""
        tool = _as_str(tool, "tool")
        if not isinstance(args, Mapping):
            raise TypeError(f"args must be a mapping of argument names to values, not {type(args).__name__}")
        return self._check_tool_call(tool, _scrub_args(args), depth=0)

    def check_output(self, text: str) -> Decision:
        """An answer before it reaches the user: PII and secrets per out_to_user, exfiltration channels."""
        text = _as_str(text, "text")
        # Real values go back in before the checks, not after: out_to_user strategies, canaries and
        # URL checks must judge the text the user will see, or echoing a pseudonym bypasses them.
        text, _, _ = self.vault.restore(text)
        label = self.derived_label(text, "model:output")

        def gather() -> tuple[list[Finding], dict[str, Any]]:
            findings = self._content_findings(text)
            # The user may read confidential text they are cleared for, but not ship it inside a link.
            findings += url_findings(text, self.policy.allowed_domains, fingerprints=self.fingerprints)
            findings += canary_findings(text, self.policy.canaries)
            findings += self._concealed_findings(text, "")
            return findings, {"text": text}

        return self._run("output", Direction.OUT_TO_USER, text, label, gather, source="model:output")

    def admit_derived(self, text: str, source: str = "model:history") -> Decision:
        """The model's own earlier output coming back into its context: an assistant turn in the chat
        history, the arguments of its earlier tool calls. Redacted per ``into_model`` with this
        session's pseudonyms, so a real value restored for the user's screen goes back to its token.

        Unlike ``admit`` it adds no segment, scans for no injection and spotlights nothing: the model's
        words derive from content already admitted (provenance holds those labels), and taking them as
        a new source would let a hijacked model vouch for its own calls, or flag its own sentences as
        injected data and so block the user's values it repeats.
        """
        text = _as_str(text, "text")
        source = _as_str(source, "source")
        label = self.derived_label(text, source)

        def gather() -> tuple[list[Finding], dict[str, Any]]:
            return self._content_findings(text), {"text": text}

        return self._run("derived", Direction.INTO_MODEL, text, label, gather, source=source)

    def check_tool_call_deferred(self, tool: str, args: Mapping[str, Any]) -> Decision:
        """``check_tool_call`` for approvals answered outside this call (a LangGraph interrupt, a web
        form): a ``require_approval`` decision comes back unanswered instead of going to the approver
        (or to ``approvals.when_no_approver``). Answer it with ``resolve_approval``."""
        tool = _as_str(tool, "tool")
        if not isinstance(args, Mapping):
            raise TypeError(f"args must be a mapping of argument names to values, not {type(args).__name__}")
        return self._check_tool_call(tool, _scrub_args(args), depth=0, defer=True)

    def resolve_approval(
        self, tool: str, args: Mapping[str, Any], pending: Decision, answer: ApprovalResult | None
    ) -> Decision:
        """The answer to a deferred approval, with an approver's rules: no answer, or a rejection,
        blocks; an approval allows ``pending``'s arguments; an edit is a new call, checked again in
        full. When that check again requires approval, the edit is the approval (the person wrote
        exactly these arguments), as when an approver answers the re-asked call with the same edit.
        """
        if pending.action is not Action.REQUIRE_APPROVAL or pending.tool != tool:
            raise ValueError("resolve_approval needs the require_approval decision of this tool call")
        if not pending.enforced:
            return pending
        if not isinstance(answer, ApprovalResult) or not answer.approved:
            return self._amend(pending, Action.BLOCK, "rejected by approver", "approvals")
        if answer.args is not None and dict(answer.args) != dict(args):
            edited = self._check_tool_call(tool, _scrub_args(answer.args), depth=1, defer=True)
            if edited.action is Action.REQUIRE_APPROVAL and edited.enforced:
                return self._amend(edited, Action.ALLOW, "approved by approver as edited", "approvals")
            return edited
        return self._amend(pending, Action.ALLOW, "approved by approver", "approvals")

    def stream_output(self, *, hold_back: int = 256, min_release: int = 256) -> OutputStream:
        """A hold-back window for streamed answers: feed chunks, show what it returns, then close."""
        return OutputStream(self, hold_back=hold_back, min_release=min_release)

    async def aadmit(self, text: str, source: str = "user", **kwargs: Any) -> Decision:
        return await asyncio.to_thread(self.admit, text, source, **kwargs)

    async def acheck_tool_call(self, tool: str, args: Mapping[str, Any]) -> Decision:
        return await asyncio.to_thread(self.check_tool_call, tool, args)

    async def acheck_output(self, text: str) -> Decision:
        return await asyncio.to_thread(self.check_output, text)

    def admit_or_raise(self, text: str, source: str = "user", **kwargs: Any) -> Decision:
        return _raise_if_blocked(self.admit(text, source, **kwargs))

    def check_tool_call_or_raise(self, tool: str, args: Mapping[str, Any]) -> Decision:
        return _raise_if_blocked(self.check_tool_call(tool, args))

    def check_output_or_raise(self, text: str) -> Decision:
        return _raise_if_blocked(self.check_output(text))

    # ---- tool calls -------------------------------------------------------------------------------
    def _check_tool_call(self, tool: str, args: Mapping[str, Any], depth: int, defer: bool = False) -> Decision:
        policy = self.policy
        tp = policy.tool(tool)
        if tp.restore_pseudonyms:
            # Pseudonyms the model was given go back to their real values *before* the checks: the
            # into_tool strategy of each entity then decides whether the real value may pass (allow),
            # and destinations, provenance and secrets are judged on what the tool would really get.
            # Tokens the vault never issued stay as they are: an invented token resolves to nothing.
            args = _rewrite_args(args, {}, self.firewall.signing_key, policy.model.redaction.hash_length,
                                 self.vault, restore=True)
        values = list(_flatten(args))
        joined = "\n".join(v for _, v in values)
        label = self.derived_label(joined, f"tool_call:{tool}")

        def gather() -> tuple[list[Finding], dict[str, Any]]:
            findings: list[Finding] = []
            prefetched = self._prefetch([v for _, v in values])
            for path, value in values:
                for f in self._content_findings(value, prefetched):
                    findings.append(replace(f, field=path))
                findings += url_findings(value, policy.allowed_domains, field=path)
                findings += canary_findings(value, policy.canaries, field=path)
                findings += self._concealed_findings(value, path)
                findings += self._argument_rule_findings(tool, path, value)
                if tp.cls is not ToolClass.READ_ONLY:
                    findings += self._provenance_findings(tool, path, value)
                    if self.fingerprints.copies_in(value):
                        findings.append(Finding("fingerprint", "exfil:confidential_copy", 0, len(value), 1.0,
                                                field=path))
                if tp.cls is ToolClass.EGRESS and _is_destination(path, value, tp):
                    findings += self._destination_findings(tp, path, value)
            findings += self._split_secret_findings(values)
            for key_path, key in _keys(args):
                # A name is a value too: a key cannot be rewritten, so what is found in one blocks.
                for f in [*self._concealed_findings(key, key_path, views=False),
                          *url_findings(key, policy.allowed_domains, field=key_path),
                          *canary_findings(key, policy.canaries, field=key_path)]:
                    findings.append(replace(f, start=0, end=0, detector=f.detector + "+key"))
            if tp.cls is not ToolClass.READ_ONLY:
                findings += self.authoriser.findings(tool, values)
            if tp.require_approval:
                findings.append(
                    Finding("policy", "tool:approval", 0, 0, 1.0, rule=f"tools.tools.{tool}.require_approval")
                )
            return findings, {"args": args, "values": values}

        decision = self._run("tool_call", Direction.INTO_TOOL, joined, label, gather, source=f"tool_call:{tool}",
                             tool=tool, args=args)
        if decision.action is Action.REQUIRE_APPROVAL and decision.enforced and not defer:
            return self._approve(tool, args, decision, depth)
        return decision

    def _approve(self, tool: str, args: Mapping[str, Any], decision: Decision, depth: int) -> Decision:
        if self.approver is None:
            if self.policy.model.approvals.when_no_approver == "allow":
                return self._amend(decision, Action.ALLOW, "approval required; no approver, and the policy allows that",
                                   "approvals.when_no_approver")
            return self._amend(decision, Action.BLOCK, "approval required and no approver is configured",
                               "approvals.when_no_approver")
        timeout = self.policy.model.approvals.timeout_seconds
        try:
            result = ask_approver(self.approver, ApprovalRequest(tool=tool, args=args, decision=decision),
                                        timeout)
        except ApprovalTimeout:  # nobody answered: not approved
            return self._amend(decision, Action.BLOCK, f"no answer from approver within {timeout:g}s",
                               "approvals.timeout_seconds")
        except Exception as exc:  # an approver that fails has not approved
            return self._amend(decision, Action.BLOCK, f"approver failed: {type(exc).__name__}", "approvals")
        if not isinstance(result, ApprovalResult) or not result.approved:
            return self._amend(decision, Action.BLOCK, "rejected by approver", "approvals")
        if result.args is not None and dict(result.args) != dict(args):
            if depth >= 3:
                return self._amend(decision, Action.BLOCK, "too many edits in approval", "approvals")
            # An edited call is a new call: every check runs again, approval included.
            return self._check_tool_call(tool, _scrub_args(result.args), depth + 1)
        return self._amend(decision, Action.ALLOW, "approved by approver", "approvals")

    def _amend(self, decision: Decision, action: Action, reason: str, rule: str) -> Decision:
        new = replace(decision, action=action, reason=reason, rule=rule,
                      args=decision.args if action is not Action.BLOCK else {})
        summary = self._log_safe(new.summary())
        summary["label"]["sha256"] = ""
        record_id = self._record({"type": "approval", "op": "tool_call", "tool": self._log_name(decision.tool),
                                  "of": decision.record_id, "decision": summary})
        return replace(new, record_id=record_id)

    # ---- finding gatherers ------------------------------------------------------------------------
    def _content_findings(self, text: str, prefetched: list[dict[str, list[Finding]]] | None = None) -> list[Finding]:
        """PII and secrets, on the normalised text and inside encoded payloads, in original offsets.

        ``prefetched`` holds, per detector, findings already computed for some normalised texts (see
        ``_prefetch``); anything else is detected here.
        """
        if not text:
            return []
        detectors = self.firewall.content_detectors
        pre = prefetched or [{} for _ in detectors]

        def detect(t: str) -> list[Finding]:
            out: list[Finding] = []
            for d, cache in zip(detectors, pre, strict=True):
                found = cache.get(t)
                out += d.detect(t) if found is None else found
            return out

        return scan_with_decoding(text, detect, max_spans=MAX_DECODED_SPANS)

    def _prefetch(self, texts: list[str]) -> list[dict[str, list[Finding]]]:
        """Per detector, findings for the normalised ``texts`` in one batched call where it can batch.

        A tool call has several arguments, each checked alone; NER costs a few milliseconds per call
        whatever the length, so one batch over all of them instead of one call each.
        """
        batchers = [getattr(d, "detect_many", None) for d in self.firewall.content_detectors]
        if sum(1 for t in texts if t) < 2 or not any(callable(b) for b in batchers):
            return [{} for _ in batchers]
        unique = list(dict.fromkeys(n for n in (normalize(t).text for t in texts if t) if n))
        return [dict(zip(unique, many(unique), strict=True)) if callable(many) and len(unique) > 1 else {}
                for many in batchers]

    def _secrets_detector(self) -> Detector | None:
        return next((d for d in self.firewall.content_detectors if d.name == "secrets"), None)

    def _concealed_findings(self, text: str, field: str, *, views: bool = True) -> list[Finding]:
        """Secrets hidden from patterns by a whole-value transform (reversed, rot13, escapes, entities,
        character codes, base32; see detect.views), and, with ``views=False``, secrets in plain form
        (for argument names, which the content detectors do not see). Pattern detectors only. Such a
        finding cannot be redacted in place, so the decision blocks (see ``_finding_action``)."""
        det = self._secrets_detector()
        if det is None or not text:
            return []
        forms = concealed_views(text) if views else [("name", text)]
        out: dict[str, Finding] = {}
        for name, view in forms:
            for f in det.detect(normalize(view).text):
                out.setdefault(f.kind, Finding(f"{_VIEW_DETECTOR}{name}", f.kind, 0, len(text), f.score,
                                               field=field))
        return list(out.values())

    def _split_secret_findings(self, values: list[tuple[str, str]]) -> list[Finding]:
        """A secret cut across two or more arguments ("AKIAIOSF" + "ODNN7EXAMPLE"): the secrets
        detector on the values joined in order, keeping only matches that cross a boundary."""
        det = self._secrets_detector()
        parts = [v for _, v in values if v]
        if det is None or len(parts) < 2:
            return []
        bounds, at = [], 0
        for p in parts[:-1]:
            at += len(p)
            bounds.append(at)
        joined = normalize("".join(parts)).text
        return [Finding(_SPLIT_DETECTOR, f.kind, 0, 0, f.score) for f in det.detect(joined)
                if any(f.start < b < f.end for b in bounds)]

    def _injection_findings(self, text: str, label: Label) -> list[Finding]:
        cfg = self.policy.model.detection.injection
        det = self.firewall._injection
        if det is None or not self.policy.trust.at_most(label.trust, cfg.scan_at_or_below):
            return []
        found = scan_with_decoding(text, det.detect, max_spans=MAX_DECODED_SPANS)
        found = [f for f in found if f.kind == "injection" and f.score >= cfg.threshold]
        found += self._straddling_findings(text, det, cfg.threshold) if not found else []
        self._untrusted_tail = text[-STRADDLE_CHARS:]
        return found

    def _straddling_findings(self, text: str, det: Detector, threshold: float) -> list[Finding]:
        """An instruction split over two untrusted outputs ("... when you finish, send" / "the inbox to
        x@evil"): the end of the previous one and the start of this one are read together, and a
        finding that crosses the seam marks the start of this text. Bounded: STRADDLE_CHARS each side."""
        tail = self._untrusted_tail
        if not tail:
            return []
        head = text[:STRADDLE_CHARS]
        joined = tail + " " + head  # a sentence cut in two reads as one
        seam = len(tail) + 1
        out = []
        for f in det.detect(joined):
            if f.kind == "injection" and f.score >= threshold and f.start < seam < f.end:
                out.append(replace(f, detector=f.detector + "+split", start=0, end=min(len(text), f.end - seam)))
        return out

    def _scope_findings(self, label: Label) -> list[Finding]:
        # One rule for retrieval and admission: ctxguard.scope.Scope (a label that failed verification
        # proves nothing about its tenant, whatever it claims).
        return [Finding("scope", f"scope:{v}", 0, 0, 1.0) for v in self.scope().violations(label)]

    def _budget(self, text: str, source: str) -> tuple[list[Finding], str, int]:
        budgets = self.policy.model.budgets
        src = self.policy.budget_for_source(source)
        if src is None and budgets.session_max_tokens is None:
            return [], text, 0
        tok = self.firewall.tokenizer
        n = tok.count(text)
        findings: list[Finding] = []
        limits: list[tuple[int, str, str]] = []
        if src is not None:
            limits.append((src.max_tokens, src.on_exceed, "budget:source"))
        remaining = self.budget.remaining(source, None)
        if remaining is not None:
            limits.append((remaining, budgets.on_session_exceed, "budget:session"))
        for limit, on_exceed, kind in limits:
            if n > limit:
                if on_exceed == "refuse":
                    findings.append(Finding("budget", kind, 0, len(text), 1.0, action=Action.BLOCK))
                    return findings, text, n
                text = tok.truncate(text, limit)
                n = tok.count(text)
                findings.append(Finding("budget", kind, len(text), len(text), 1.0, action=Action.REDACT))
        return findings, text, n

    def _argument_rule_findings(self, tool: str, path: str, value: str) -> list[Finding]:
        rule = self.policy.tool(tool).args.get(path.split("[")[0].split(".")[0])
        if rule is None:
            return []
        base = f"tools.tools.{tool}.args.{path}"
        out = []
        if rule.max_length is not None and len(value) > rule.max_length:
            out.append(Finding("args", "args:max_length", 0, len(value), 1.0, field=path, rule=f"{base}.max_length"))
        if rule.deny and any(_glob(p).matches(value) for p in rule.deny):
            out.append(Finding("args", "args:denied", 0, len(value), 1.0, field=path, rule=f"{base}.deny"))
        if rule.allow and not any(_glob(p).matches(value) for p in rule.allow):
            out.append(Finding("args", "args:not_allowed", 0, len(value), 1.0, field=path, rule=f"{base}.allow"))
        if rule.min_trust is not None:
            lowest, _ = self.segments.lowest_trust(value, self.policy.trust)
            if lowest is not None and self.policy.trust.rank(lowest) < self.policy.trust.rank(rule.min_trust):
                out.append(Finding("args", "args:min_trust", 0, len(value), 1.0, field=path, rule=f"{base}.min_trust"))
        return out

    def _provenance_findings(self, tool: str, path: str, value: str) -> list[Finding]:
        lowest, _ = self.segments.lowest_trust(value, self.policy.trust)
        if lowest is None:
            return []
        action = self.policy.on_value_from(tool, lowest)
        if action is Action.ALLOW:
            return []
        return [Finding("provenance", f"provenance:{lowest}", 0, len(value), 1.0, field=path, action=action,
                        rule="tools.on_value_from")]

    def describe_tools(self, specs: Iterable[ToolSpec | Mapping[str, Any]]) -> None:
        """Tell the session what its tools are (name, description, argument names): the authorisation
        check maps a tool to the actions it performs from these when its name alone does not say."""
        self.authoriser.describe(specs)

    def _destination_findings(self, tp: ToolPolicy, path: str, value: str) -> list[Finding]:
        allowed = tuple(_glob(d, True) for d in tp.destinations) or self.policy.allowed_domains
        bad = [h for h in destination_hosts(value) if not host_allowed(h, allowed)]
        if not bad:
            return []
        return [Finding("exfil", "exfil:destination", 0, len(value), 1.0, field=path)]

    # ---- decide, transform, record ----------------------------------------------------------------
    def _run(
        self,
        op: str,
        direction: Direction,
        text: str,
        label: Label,
        gather: Callable[[], tuple[list[Finding], dict[str, Any]]],
        *,
        source: str,
        tool: str = "",
        args: Mapping[str, Any] | None = None,
    ) -> Decision:
        if self.closed:
            raise RuntimeError("session is closed")
        policy = self.policy
        max_chars = policy.model.detection.max_chars
        try:
            if len(text) > max_chars:
                decision = Decision(
                    action=Action.BLOCK, text="", label=label, findings=(Finding("limits", "limits:size", 0, 0, 1.0),),
                    rule="detection.max_chars", reason=f"content longer than {max_chars} characters",
                    direction=direction, tool=tool, args={} if args is not None else None,
                )
            else:
                findings, ctx = gather()
                decision = self._conclude(op, direction, text, label, findings, ctx, source=source, tool=tool)
                self._remember(op, decision, ctx, text)
        except Exception as exc:  # fail closed: a check that cannot run has not passed
            fail_open = policy.fail_open
            decision = Decision(
                action=Action.ALLOW if fail_open else Action.BLOCK,
                text=text if fail_open else "",
                label=label,
                findings=(Finding("pipeline", "error", 0, 0, 1.0),),
                rule="on_error",
                reason=f"check failed: {type(exc).__name__}",
                direction=direction, tool=tool,
                args=(dict(args) if fail_open else {}) if args is not None else None,
            )
        if not policy.enforce:
            decision = replace(decision, enforced=False, text=text, args=dict(args) if args is not None else None)
        # Content is identified by a keyed hash: a plain SHA-256 of a one-value tool call (an e-mail
        # address, a card number) could be reversed by hashing guesses.
        summary = self._log_safe(decision.summary())
        content_hmac = self.content_hmac(text)
        summary["label"]["sha256"] = content_hmac if summary["label"].get("sha256") else ""
        event: dict[str, Any] = {
            "type": "decision", "op": op, "source": self._log_name(source), "content_hmac": content_hmac,
            "chars": len(text), "decision": summary,
        }
        if args is not None:
            event["args"] = sorted(self._log_name(str(k)) for k in args)
        record_id = self._record(event)
        return replace(decision, record_id=record_id)

    def _log_name(self, name: str) -> str:
        """A tool name, argument path or source as the audit log may hold it (see audit.log_safe_name);
        a source keeps its family prefix ("tool_call:", "tool:") readable."""
        family, sep, rest = name.partition(":")
        if sep and rest and is_log_safe_name(family + sep):
            return family + sep + log_safe_name(rest, self.content_hmac)
        return log_safe_name(name, self.content_hmac)

    def _log_safe(self, summary: dict[str, Any]) -> dict[str, Any]:
        """A decision summary with every model-chosen name made log-safe: the tool, the label's source,
        each finding's field (and the reason that quotes it)."""
        if summary.get("tool"):
            summary["tool"] = self._log_name(summary["tool"])
        summary["label"]["source"] = self._log_name(summary["label"]["source"])
        reason = summary.get("reason", "")
        for f in summary["findings"]:
            field = f.get("field") or ""
            if field and not is_log_safe_name(field):
                safe = self._log_name(field)
                reason = reason.replace(repr(field), repr(safe))
                f["field"] = safe
        summary["reason"] = reason
        return summary

    def _conclude(
        self,
        op: str,
        direction: Direction,
        text: str,
        label: Label,
        findings: list[Finding],
        ctx: dict[str, Any],
        *,
        source: str,
        tool: str,
    ) -> Decision:
        policy = self.policy
        hash_key = self.firewall.signing_key
        tool_class = policy.tool(tool).cls if tool else None
        decided: list[Finding] = []
        edits: dict[str, list[Edit]] = {}
        for f in findings:
            action, rule, strategy = self._finding_action(f, direction)
            override = self._match_rule(f.kind, direction, source, label, tool, tool_class)
            if override is not None:
                action, rule, strategy = override[0], override[1], _strategy_for(override[0], strategy)
            value = _value_at(ctx, f)
            vh = keyed_hash(hash_key, value) if value else ""
            decided.append(replace(f, action=action, rule=rule, value_hash=vh))
            if strategy is not None and f.kind.startswith(("pii:", "secret:")):
                edits.setdefault(f.field, []).append(Edit(f.start, f.end, _entity(f.kind)[1], strategy))
        whole = self._match_rule(None, direction, source, label, tool, tool_class)
        actions = [f.action for f in decided] + ([whole[0]] if whole else [])
        action = Action.most_severe(actions)
        injected = any(f.kind == "injection" for f in decided)
        if injected:
            label = label.evolve(trust=policy.model.trust.flagged)
        # The reason names the most severe finding (or rule); never a value.
        top = max(decided, key=lambda f: f.action.severity, default=None)
        if whole and (top is None or whole[0].severity >= top.action.severity):
            rule, reason = whole[1], whole[2] or f"rule {whole[1]}"
        elif top is not None and top.action is not Action.ALLOW:
            rule, reason = top.rule, _reason(top)
        elif injected:
            rule, reason = "detection.injection.on_detect", "possible prompt injection: marked, trust lowered"
        else:
            rule, reason = "", "no findings" if not decided else "findings allowed by policy"
        redaction = policy.model.redaction
        out_text = ctx.get("text", text)
        out_args: dict[str, Any] | None = None
        if action is Action.BLOCK:
            out_text = ""
            out_args = {} if op == "tool_call" else None
        else:
            if "" in edits:
                out_text = apply(out_text, edits[""], hash_key=hash_key, hash_length=redaction.hash_length,
                                 vault=self.vault)
            if op == "tool_call":
                out_args = _rewrite_args(ctx["args"], edits, hash_key, redaction.hash_length, self.vault,
                                         restore=False)
                out_text = "\n".join(v for _, v in _flatten(out_args))
            if op == "admit" and direction is Direction.INTO_MODEL and self._spotlit(label):
                out_text = self.spotlighter.mark(out_text, source)
        return Decision(
            action=action, text=out_text, label=label, findings=tuple(decided), rule=rule, reason=reason,
            direction=direction, tool=tool, args=out_args, truncated=any(f.kind.startswith("budget:") and
                                                                         f.action is Action.REDACT for f in decided),
            tokens=int(ctx.get("tokens", 0)),
        )

    def _spotlit(self, label: Label) -> bool:
        cfg = self.policy.model.spotlight
        bound = cfg.at_or_below or self.policy.model.trust.default
        return cfg.mode != "off" and self.policy.trust.at_most(label.trust, bound)

    def system_notice(self) -> str:
        """The system-prompt sentence explaining how this session marks untrusted content (may be empty)."""
        return self.spotlighter.system_notice()

    def _finding_action(self, f: Finding, direction: Direction) -> tuple[Action, str, Strategy | None]:
        m = self.policy.model
        kind = f.kind
        if kind.startswith(("pii:", "secret:")):
            strategy, rule = self.policy.strategy(_entity(kind)[0], direction)
            if f.detector.startswith(_UNREDACTABLE) and strategy.action is not Action.ALLOW:
                return Action.BLOCK, rule, None  # no edit can reach it: across arguments, in a view, a name
            return strategy.action, rule, strategy
        if kind == "injection":
            action = Action.BLOCK if m.detection.injection.on_detect == "block" else Action.ALLOW
            return action, "detection.injection.on_detect", None
        if kind.startswith("scope:"):
            action = Action.BLOCK if m.access.on_out_of_scope == "block" else Action.ALLOW
            return action, "access.on_out_of_scope", None
        if kind == "exfil:markdown_image":
            action = Action.BLOCK if m.exfiltration.block_markdown_images else Action.ALLOW
            return action, "exfiltration.block_markdown_images", None
        if kind in ("exfil:url", "exfil:destination", "exfil:dns_payload"):
            return m.exfiltration.on_unknown_domain, "exfiltration.allowed_domains", None
        if kind == "exfil:canary":
            return Action.BLOCK, "exfiltration.canary_tokens", None
        if kind == "exfil:confidential_copy":
            return Action.BLOCK, "exfiltration.confidential_from", None
        if kind == "tool:approval":
            return Action.REQUIRE_APPROVAL, f.rule, None
        if kind.startswith("args:"):
            return Action.BLOCK, f.rule, None
        if kind.startswith("limits:"):
            return Action.BLOCK, "detection.limits", None
        if kind.startswith(("provenance:", "budget:", "support:")):
            return f.action, f.rule or ("budgets" if kind.startswith("budget:") else "tools.on_value_from"), None
        # A finding from a user's detector that the policy does not name: block (fail closed).
        return Action.BLOCK, "detection", None

    def _match_rule(
        self, kind: str | None, direction: Direction, source: str, label: Label, tool: str, tool_class: ToolClass | None
    ) -> tuple[Action, str, str] | None:
        policy = self.policy
        for r in policy.model.rules:
            w = r.when
            g = policy.rule_globs(r.name)
            if (w.finding is None) != (kind is None):
                continue
            if kind is not None and g["finding"] is not None and not g["finding"].matches(kind):
                continue
            if w.direction is not None and direction not in w.direction:
                continue
            if g["source"] is not None and not g["source"].matches(source):
                continue
            if w.trust_at_or_below is not None and not policy.trust.at_most(label.trust, w.trust_at_or_below):
                continue
            if g["tool"] is not None and not (tool and g["tool"].matches(tool)):
                continue
            if w.tool_class is not None and tool_class is not w.tool_class:
                continue
            return r.action, f"rules.{r.name}", r.reason
        return None

    def derived_label(self, text: str, source: str = "model:output") -> Label:
        """The label of content the model produced now: the join of everything admitted so far.

        Public for adapters that store model output (a chat memory keeping an assistant turn): the
        turn is no more trusted than the least trusted content in the context when it was made.
        """
        labels = [s.label for s in self.segments.segments]
        own = Label.for_text(text, source=source, trust=self.policy.trust.highest, tenant=self.tenant,
                             confidentiality=self.policy.confidentiality.lowest)
        if not labels:
            return own
        return join([own, *labels], trust=self.policy.trust, confidentiality=self.policy.confidentiality,
                    source=source, text=text)

    def _remember(self, op: str, decision: Decision, ctx: dict[str, Any], text: str) -> None:
        """Keep what entered the context, with its injected spans, for later provenance questions."""
        if op != "admit" or (decision.action is Action.BLOCK and self.policy.enforce):
            return
        body = ctx.get("text", text)
        if ctx.get("tokens"):
            self.budget.charge(decision.label.source, int(ctx["tokens"]))
        hostile = [_line_around(body, f.start, f.end) for f in decision.findings if f.kind == "injection"]
        if hostile and self.authoriser.delegated_to(body, ctx.get("label", decision.label)):
            # The user said "do what this says" and the policy allows delegation: its instructions are
            # what the user asked for, so its values are untrusted, not hostile. The finding stays in
            # the decision and the audit record.
            hostile = []
        # The segment keeps its source's trust; only the injected lines are hostile, so a user's value
        # that happens to sit elsewhere in the same tool output is judged by the source's trust.
        self.segments.add(body, ctx.get("label", decision.label), hostile)
        conf = self.policy.model.exfiltration.confidential_from
        if self.policy.confidentiality.rank(decision.label.confidentiality) >= self.policy.confidentiality.rank(conf):
            self.fingerprints.add(body)

    def _record(self, event: dict[str, Any]) -> str:
        event = {"session": self.id, "principal": self.principal, "tenant": self.tenant, **event}
        return self.firewall.audit.append(event)

    def __repr__(self) -> str:
        return (
            f"Session(id={self.id!r}, principal={self.principal!r}, tenant={self.tenant!r}, "
            f"clearance={self.clearance!r})"
        )


# ---- helpers ------------------------------------------------------------------------------------------
_GLOB_CACHE: dict[tuple[str, bool], Any] = {}


def _glob(pattern: str, ignore_case: bool = False) -> Any:
    from .policy.compiled import Glob

    key = (pattern, ignore_case)
    g = _GLOB_CACHE.get(key)
    if g is None:
        g = _GLOB_CACHE[key] = Glob.compile(pattern, ignore_case=ignore_case)
    return g


def _as_str(value: object, name: str) -> str:
    """``value`` as a plain ``str``: frameworks hand over str subclasses (LangChain's ``TextAccessor``)
    that some detectors (spaCy) refuse, which would turn every check into a fail-closed block."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    return scrub_surrogates(value if type(value) is str else str.__str__(value))


def _scrub_args(value: Any) -> Any:
    """Tool arguments with surrogates scrubbed from every string, keys included (see scrub_surrogates);
    containers are copied, other values kept as they are."""
    if isinstance(value, str):
        return scrub_surrogates(str.__str__(value))
    if isinstance(value, Mapping):
        return {_scrub_args(k): _scrub_args(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_scrub_args(v) for v in value) if type(value) in (list, tuple) else \
            [_scrub_args(v) for v in value]
    return value


def _raise_if_blocked(decision: Decision) -> Decision:
    if decision.blocked:
        raise Blocked(decision)
    return decision


def _flatten(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, string) for every scalar inside nested mappings and sequences of tool arguments."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            yield from _flatten(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _flatten(v, f"{path}[{i}]")
    elif isinstance(value, str):
        yield path, str.__str__(value)  # a plain str, as in _as_str
    elif isinstance(value, bytes):
        yield path, value.decode("utf-8", "replace")
    elif value is None or isinstance(value, bool | int | float):
        yield path, "" if value is None else str(value)
    else:
        yield path, str(value)


def _keys(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, key) for every string key inside nested mappings and sequences of tool arguments."""
    if isinstance(value, Mapping):
        for k, v in value.items():
            here = f"{path}.{k}" if path else str(k)
            if isinstance(k, str):
                yield here, k
            yield from _keys(v, here)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from _keys(v, f"{path}[{i}]")


def _rewrite_args(
    value: Any, edits: dict[str, list[Edit]], key: bytes, hash_length: int, vault: PseudonymVault, *,
    restore: bool, path: str = "",
) -> Any:
    if isinstance(value, Mapping):
        return {k: _rewrite_args(v, edits, key, hash_length, vault, restore=restore,
                                 path=f"{path}.{k}" if path else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_rewrite_args(v, edits, key, hash_length, vault, restore=restore, path=f"{path}[{i}]")
                           for i, v in enumerate(value))
    if isinstance(value, str):
        out = apply(value, edits[path], hash_key=key, hash_length=hash_length, vault=vault) if path in edits else value
        if restore:
            out, _, _ = vault.restore(out)
        return out
    return value


def _is_destination(path: str, value: str, tp: ToolPolicy) -> bool:
    """Whether an argument names where data goes: declared in the policy, a destination-word name, or a
    value that is nothing but addresses and URLs (see ctxguard.flow.destinations)."""
    rule = tp.args.get(path.split("[")[0].split(".")[0])
    return is_destination(path, value, declared=rule is not None and rule.destination)


def _value_at(ctx: dict[str, Any], f: Finding) -> str:
    if f.end <= f.start:
        return ""
    if "values" in ctx:
        for path, value in ctx["values"]:
            if path == f.field:
                return str(value[f.start:f.end])
        return ""
    return str(ctx.get("text", ""))[f.start:f.end]


# How far an injection's hostile scope reaches: the lines holding the flagged span, and the next line
# when it carries the payload ("... to the account below." / the IBAN on its own line). Values elsewhere in the
# same e-mail or page are untrusted, not hostile: they go through the support check (is the call
# asked for, is its destination the user's or from content the request pointed to), so a bill's own
# IBAN is not blocked because someone appended an instruction two lines below it. A single line
# longer than this many characters is scoped to this many characters around the span.
MAX_HOSTILE_SCOPE = 4000
# How much of the previous untrusted output and of the next one are read together for a split instruction.
STRADDLE_CHARS = 300


_POINTS_FORWARD = compile_linear(r"(?i)\b(?:below|following|beneath|underneath|next\s+line|as\s+follows)\b")


def _introduces_next_line(line: str, following: str) -> bool:
    """Whether an injected line's payload is the next line: the line ends in ':' or points forward
    ("the account below"), or the next line is nothing but an identifier, address or URL."""
    if line.rstrip().endswith(":") or _POINTS_FORWARD.search(line[-400:]) is not None:
        return True
    nxt = following.strip()
    return bool(nxt) and len(nxt) <= 200 and (is_identifier(nxt) or shaped_as_destinations(nxt))


def _line_around(text: str, start: int, end: int) -> tuple[int, int]:
    """The hostile scope of an injected span: its lines, plus the next one when it carries the payload."""
    s = text.rfind("\n", 0, start) + 1
    e = text.find("\n", end)
    e = len(text) if e < 0 else e
    if e < len(text):
        nxt = text.find("\n", e + 1)
        nxt = len(text) if nxt < 0 else nxt
        if _introduces_next_line(text[s:e], text[e + 1:nxt]):
            e = nxt
    if e - s > MAX_HOSTILE_SCOPE:
        s, e = max(s, start - MAX_HOSTILE_SCOPE // 2), min(e, end + MAX_HOSTILE_SCOPE // 2)
    return s, e


def _strategy_for(action: Action, current: Strategy | None) -> Strategy | None:
    if current is None:
        return None
    if action is Action.ALLOW:
        return Strategy.ALLOW
    if action is Action.REDACT:
        return current if current.action is Action.REDACT else Strategy.REDACT
    return current


def _reason(f: Finding) -> str:
    where = f" in argument {f.field!r}" if f.field else ""
    verbs = {Action.BLOCK: "blocked", Action.REDACT: "redacted", Action.REQUIRE_APPROVAL: "needs approval",
             Action.ALLOW: "allowed"}
    return f"{f.kind}{where}: {verbs[f.action]}"


__all__ = ["Firewall", "Session"]
