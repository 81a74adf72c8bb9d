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

import asyncio
from collections.abc import Sequence
from typing import Any

from llama_index.core.bridge.pydantic import PrivateAttr
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle

from ctxguard import Action, Session
from ctxguard.retrieval import Retrieved, admit_retrieved
from ctxguard.scope import Scope

from ._keys import ACTION_KEY, RECORD_KEY, hidden_from_model, without_ctxguard_keys

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
        return self._conclude(nodes, [self._admit(n) for n in nodes])

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        return self._conclude(nodes, [await asyncio.to_thread(self._admit, n) for n in nodes])

    def _admit(self, scored: NodeWithScore) -> Retrieved:
        """Admission, scope, the metadata the LLM reads with the node, and its new label: the core's
        (``ctxguard.retrieval.admit_retrieved``)."""
        return admit_retrieved(self._session, _text(scored), self.source, metadata=scored.node.metadata,
                               scope=self._scope, model_metadata=_llm_metadata(scored))

    def _conclude(self, nodes: Sequence[NodeWithScore], admitted: Sequence[Retrieved]) -> list[NodeWithScore]:
        out = [a for n, r in zip(nodes, admitted, strict=True) if (a := self._admitted(n, r)) is not None]
        self._session.record_event(
            "llamaindex_nodes", received=len(nodes), admitted=len(out), dropped=len(nodes) - len(out),
            redacted=sum(1 for r in admitted if r.decision.action is Action.REDACT),
        )
        return out

    def _admitted(self, scored: NodeWithScore, got: Retrieved) -> NodeWithScore | None:
        if not got.kept:
            return None
        node, decision = scored.node, got.decision
        metadata = {**without_ctxguard_keys(node.metadata), **got.entries, ACTION_KEY: decision.action.value,
                    RECORD_KEY: decision.record_id}
        llm_excluded = list(node.excluded_llm_metadata_keys) if got.metadata_shown else list(node.metadata)
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
