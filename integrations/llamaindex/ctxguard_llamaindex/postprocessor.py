"""Admission of retrieved nodes: every node through ``Session.admit`` before it can reach a prompt.

Each node's text is admitted with its metadata, so its signed label is verified (a forged, stale or
missing label means lowest trust and highest confidentiality: out of scope for any tenant session),
checked against the session's scope, scanned and redacted per policy. A blocked or out-of-scope
node is dropped; an admitted one comes back as a *copy* whose text is the decision's text (redacted,
spotlit when untrusted) and whose metadata carries the label, re-signed for that text, with the
decision's action and audit record id. The docstore's own node objects are never changed.

Metadata the LLM sees (every key not in ``excluded_llm_metadata_keys``) is content too: the
synthesizer puts it in the prompt beside the text, and the signature covers the text only. It is
admitted as well, under the node's (verified) label; unless that passes with nothing found, every
non-ctxguard key is hidden from the LLM's view of the copy.

The scope test is applied here as well as by the firewall: a retrieval scope is the principal's, not
a policy switch, so ``access.on_out_of_scope: allow`` or shadow mode do not widen what a retriever
returns.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from ctxguard import Action, Decision, Session
from ctxguard.scope import Scope

from ._keys import hidden_from_model, label_entries, without_ctxguard_keys

DEFAULT_SOURCE = "retriever:llamaindex"


class CtxGuardNodePostprocessor(BaseNodePostprocessor):
    """Admit, redact or drop each node for ``session``; use it in any query engine's postprocessors.

    ``source`` names the retrieval for the policy (its trust comes from the signed label when that
    verifies). ``min_trust`` hides nodes labelled below that trust level.
    """

    source: str = DEFAULT_SOURCE
    min_trust: str | None = None
    _session: Session = PrivateAttr()
    _scope: Scope = PrivateAttr()

    def __init__(self, session: Session, *, source: str = DEFAULT_SOURCE, min_trust: str | None = None,
                 **kwargs: Any) -> None:
        fields: dict[str, Any] = {"source": source, "min_trust": min_trust, **kwargs}
        super().__init__(**fields)
        self._session = session
        self._scope = session.scope(min_trust=min_trust)

    @classmethod
    def class_name(cls) -> str:
        return "CtxGuardNodePostprocessor"

    @property
    def session(self) -> Session:
        return self._session

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        decisions = [self._session.admit(_text(n), self.source, metadata=n.node.metadata) for n in nodes]
        shown = [self._metadata_shown(n, d, self._session.admit) for n, d in zip(nodes, decisions, strict=True)]
        return self._conclude(nodes, decisions, shown)

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        admit: Callable[..., Awaitable[Decision]] = self._session.aadmit
        decisions = [await admit(_text(n), self.source, metadata=n.node.metadata) for n in nodes]
        shown = []
        for n, d in zip(nodes, decisions, strict=True):
            meta = self._metadata_to_check(n, d)
            shown.append(not meta or _clean(await admit(meta, self.source, label=d.label)))
        return self._conclude(nodes, decisions, shown)

    def _metadata_to_check(self, scored: NodeWithScore, decision: Decision) -> str:
        """The metadata the LLM would read with a node that is kept ("" when none, or the node is dropped)."""
        if not decision.allowed or not self._scope.permits(decision.label):
            return ""
        return _llm_metadata(scored)

    def _metadata_shown(self, scored: NodeWithScore, decision: Decision, admit: Callable[..., Decision]) -> bool:
        """Whether that metadata passes admission under the node's label with nothing found."""
        meta = self._metadata_to_check(scored, decision)
        return not meta or _clean(admit(meta, self.source, label=decision.label))

    def _conclude(
        self, nodes: Sequence[NodeWithScore], decisions: Sequence[Decision], shown: Sequence[bool]
    ) -> list[NodeWithScore]:
        out = [a for n, d, m in zip(nodes, decisions, shown, strict=True) if (a := self._admitted(n, d, m)) is not None]
        self._session.record_event(
            "llamaindex_nodes", received=len(nodes), admitted=len(out), dropped=len(nodes) - len(out),
            redacted=sum(1 for d in decisions if d.action is Action.REDACT),
        )
        return out

    def _admitted(self, scored: NodeWithScore, decision: Decision, metadata_shown: bool) -> NodeWithScore | None:
        label = decision.label
        if not decision.allowed or not self._scope.permits(label):
            return None
        node = scored.node
        metadata = {**without_ctxguard_keys(node.metadata), **label_entries(self._session, decision, decision.text)}
        llm_excluded = list(node.excluded_llm_metadata_keys) if metadata_shown else list(node.metadata)
        copy = node.model_copy(update={
            "metadata": metadata,
            "excluded_embed_metadata_keys": hidden_from_model(list(node.excluded_embed_metadata_keys)),
            "excluded_llm_metadata_keys": hidden_from_model(llm_excluded),
        })
        copy.set_content(decision.text)
        return NodeWithScore(node=copy, score=scored.score)


def _text(scored: NodeWithScore) -> str:
    return scored.node.get_content(metadata_mode=MetadataMode.NONE)


def _llm_metadata(scored: NodeWithScore) -> str:
    """The metadata the LLM would read with this node, ctxguard keys aside ("" when there is none)."""
    node = scored.node
    hidden = node.model_copy(update={"excluded_llm_metadata_keys": hidden_from_model(
        list(node.excluded_llm_metadata_keys))})
    return hidden.get_metadata_str(mode=MetadataMode.LLM)


def _clean(decision: Decision) -> bool:
    return decision.action is Action.ALLOW and not decision.findings
