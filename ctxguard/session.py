"""Session: one principal's conversation, and its entry points.

A session holds what a conversation accumulates (admitted segments with their labels, the
fingerprints of confidential text, the token budget, the pseudonym vault, the user's request as
read so far) and runs each entry point as its list of steps (``ctxguard.pipeline``). The decisions
themselves come from the policy's one decision table, so every adapter that calls these entry
points gets the same answer for the same content.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import approvals
from ._patterns import compile_linear
from .approvals import ApprovalResult, Approver
from .audit import log_safe_decision, log_safe_source
from .decision import Action, Decision, Direction
from .errors import Blocked
from .flow.authorisation import Authoriser
from .flow.exfil import Fingerprints
from .flow.provenance import SegmentStore
from .flow.support import ToolSpec
from .history import History
from .labels import Label, join
from .pipeline import run as pipeline
from .pipeline.arguments import as_args, as_str
from .pipeline.check import Check
from .redact.spotlight import Spotlighter
from .redact.strategies import keyed_hash
from .redact.vault import PseudonymVault
from .scope import Scope, filter_fields
from .stream import OutputStream
from .tokens import BudgetLedger

if TYPE_CHECKING:
    from .firewall import Firewall

# What Session.record_event accepts as a string value: identifiers, class names, hashes; never prose.
_SAFE_EVENT_VALUE = compile_linear(r"[A-Za-z0-9_.:/\-]{0,128}")


def is_event_value(value: str) -> bool:
    """Whether ``record_event`` takes ``value`` as it is (an identifier or hash, not prose)."""
    return _SAFE_EVENT_VALUE.fullmatch(value) is not None


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
        self.untrusted_tail = ""
        self.history = History(self)
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

    def spotlit(self, label: Label) -> bool:
        """Whether content with ``label`` is marked as data when it enters the model."""
        cfg = self.policy.model.spotlight
        bound = cfg.at_or_below or self.policy.model.trust.default
        return cfg.mode != "off" and self.policy.trust.at_most(label.trust, bound)

    def system_notice(self) -> str:
        """The system-prompt sentence explaining how this session marks untrusted content (may be empty)."""
        return self.spotlighter.system_notice()

    def provenance(self, value: str) -> list[Label]:
        """Labels of the admitted segments that contain ``value`` (after folding case and spacing)."""
        return [s.label for s in self.segments.suppliers(value)]

    def describe_tools(self, specs: Iterable[ToolSpec | Mapping[str, Any]]) -> None:
        """Tell the session what its tools are (name, description, argument names): the authorisation
        check maps a tool to the actions it performs from these when its name alone does not say."""
        self.authoriser.describe(specs)

    # ---- audit ------------------------------------------------------------------------------------
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

    def audit_append(self, event: dict[str, Any]) -> str:
        """Write one record of this session (the pipeline's record step); returns its id."""
        return self._record(event)

    def _record(self, event: dict[str, Any]) -> str:
        event = {"session": self.id, "principal": self.principal, "tenant": self.tenant, **event}
        return self.firewall.audit.append(event)

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
        check = Check("admit", Direction(direction), as_str(text, "text"), as_str(source, "source"), label=label,
                      metadata=metadata, confidentiality=confidentiality)
        return pipeline.run(self, pipeline.ADMIT, check)

    def check_output(self, text: str) -> Decision:
        """An answer before it reaches the user: PII and secrets per out_to_user, exfiltration channels."""
        check = Check("output", Direction.OUT_TO_USER, as_str(text, "text"), "model:output")
        return pipeline.run(self, pipeline.OUTPUT, check)

    def admit_derived(self, text: str, source: str = "model:history") -> Decision:
        """The model's own earlier output coming back into its context: an assistant turn in the chat
        history, the arguments of its earlier tool calls. Redacted per ``into_model`` with this
        session's pseudonyms, so a real value restored for the user's screen goes back to its token.

        Unlike ``admit`` it adds no segment, scans for no injection and spotlights nothing: the model's
        words derive from content already admitted (provenance holds those labels), and taking them as
        a new source would let a hijacked model vouch for its own calls, or flag its own sentences as
        injected data and so block the user's values it repeats.
        """
        check = Check("derived", Direction.INTO_MODEL, as_str(text, "text"), as_str(source, "source"))
        return pipeline.run(self, pipeline.DERIVED, check)

    def check_tool_call(self, tool: str, args: Mapping[str, Any]) -> Decision:
        """A tool call before it runs: argument rules, provenance, exfiltration, support, then approval."""
        tool, checked = as_str(tool, "tool"), as_args(args)
        return self._settled(tool, checked, self._tool_call(tool, checked), depth=0)

    def check_tool_call_deferred(self, tool: str, args: Mapping[str, Any]) -> Decision:
        """``check_tool_call`` for approvals answered outside this call (a LangGraph interrupt, a web
        form): a ``require_approval`` decision comes back unanswered instead of going to the approver
        (or to ``approvals.when_no_approver``). Answer it with ``resolve_approval``."""
        return self._tool_call(as_str(tool, "tool"), as_args(args))

    def resolve_approval(
        self, tool: str, args: Mapping[str, Any], pending: Decision, answer: ApprovalResult | None
    ) -> Decision:
        """The answer to a deferred approval (see ``approvals.resolve``)."""
        if pending.action is not Action.REQUIRE_APPROVAL or pending.tool != tool:
            raise ValueError("resolve_approval needs the require_approval decision of this tool call")
        return approvals.resolve(pending, args, answer, recheck=lambda edited, _depth: self._tool_call(
            tool, as_args(edited)), amend=self._amend)

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

    # ---- tool calls and approvals -----------------------------------------------------------------
    def _tool_call(self, tool: str, args: Mapping[str, Any]) -> Decision:
        check = Check("tool_call", Direction.INTO_TOOL, "", f"tool_call:{tool}", tool=tool, args=args)
        return pipeline.run(self, pipeline.TOOL_CALL, check)

    def _settled(self, tool: str, args: Mapping[str, Any], decision: Decision, depth: int) -> Decision:
        if decision.action is not Action.REQUIRE_APPROVAL or not decision.enforced:
            return decision

        def recheck(edited: Mapping[str, Any], deeper: int) -> Decision:
            # An edited call is a new call: every check runs again, approval included.
            checked = as_args(edited)
            return self._settled(tool, checked, self._tool_call(tool, checked), deeper)

        return approvals.settle(decision, args, approver=self.approver, cfg=self.policy.model.approvals,
                                recheck=recheck, amend=self._amend, depth=depth)

    def _amend(self, decision: Decision, action: Action, reason: str, rule: str) -> Decision:
        """An approval's outcome, as its own audit record pointing at the decision it settles."""
        new = replace(decision, action=action, reason=reason, rule=rule,
                      args=decision.args if action is not Action.BLOCK else {})
        summary = log_safe_decision(new.summary(), self.content_hmac)
        summary["label"]["sha256"] = ""
        record_id = self._record({"type": "approval", "op": "tool_call",
                                  "tool": log_safe_source(decision.tool, self.content_hmac),
                                  "of": decision.record_id, "decision": summary})
        return new.with_record(record_id)

    def __repr__(self) -> str:
        return (
            f"Session(id={self.id!r}, principal={self.principal!r}, tenant={self.tenant!r}, "
            f"clearance={self.clearance!r})"
        )


def _raise_if_blocked(decision: Decision) -> Decision:
    if decision.blocked:
        raise Blocked(decision)
    return decision


__all__ = ["Session", "is_event_value"]
