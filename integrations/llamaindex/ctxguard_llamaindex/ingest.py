"""Labelling nodes for ingestion: each node's label signed into its metadata before it is indexed.

The signature covers the node's *text*, so label the nodes that will be stored, after splitting: a
chunk cut from a labelled ``Document`` inherits the document's metadata but not its text, its label
no longer verifies, and it comes back at the lowest trust (tenant sessions drop it). Use
``label_nodes`` on finished nodes, or put ``CtxGuardLabeler`` last in the transformations of
``VectorStoreIndex.from_documents`` or an ``IngestionPipeline``.

The ctxguard keys are hidden from the embedding and from the LLM's view of the node: embedded into
the vector, a tenant name would make any query that names the tenant match that tenant's documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from llama_index.core.bridge.pydantic import ConfigDict, PrivateAttr
from llama_index.core.schema import BaseNode, MetadataMode, TransformComponent

from ctxguard import Session

from ._keys import hidden_from_model, without_ctxguard_keys

NodeT = TypeVar("NodeT", bound=BaseNode)


def label_nodes(
    nodes: Sequence[NodeT],
    session: Session,
    *,
    source: str = "retriever:llamaindex",
    confidentiality: str | None = None,
) -> list[NodeT]:
    """Copies of ``nodes`` (or Documents) with ``session``'s signed label for each text in their metadata.

    The label carries the session's tenant, the trust the policy gives ``source`` and
    ``confidentiality`` (the policy's default when None). The originals are not changed.
    """
    out: list[NodeT] = []
    for node in nodes:
        text = node.get_content(metadata_mode=MetadataMode.NONE)
        signed = session.sign(session.label_for(text, source, confidentiality=confidentiality))
        out.append(node.model_copy(update={
            "metadata": {**without_ctxguard_keys(node.metadata), **signed},
            "excluded_embed_metadata_keys": hidden_from_model(list(node.excluded_embed_metadata_keys)),
            "excluded_llm_metadata_keys": hidden_from_model(list(node.excluded_llm_metadata_keys)),
        }))
    return out


class CtxGuardLabeler(TransformComponent):
    """An ingestion transformation that applies ``label_nodes``; put it after the splitter."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    source: str = "retriever:llamaindex"
    confidentiality: str | None = None
    _session: Session = PrivateAttr()

    def __init__(self, session: Session, *, source: str = "retriever:llamaindex",
                 confidentiality: str | None = None) -> None:
        fields: dict[str, Any] = {"source": source, "confidentiality": confidentiality}
        super().__init__(**fields)
        self._session = session

    @classmethod
    def class_name(cls) -> str:
        return "CtxGuardLabeler"

    def __call__(self, nodes: Sequence[BaseNode], **kwargs: Any) -> list[BaseNode]:
        return label_nodes(nodes, self._session, source=self.source, confidentiality=self.confidentiality)
