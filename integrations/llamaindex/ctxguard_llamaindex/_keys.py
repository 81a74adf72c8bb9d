"""The metadata keys ctxguard writes onto nodes and messages, and how to keep them from the model.

The signed label, its signature and the plain filter hints ride in node metadata (for the vector
store's filter and for verification when the node comes back) and in a chat message's
``additional_kwargs``. None of them is content: a tenant name in embedded metadata would make a
query naming that tenant match its documents, and OpenAI-style adapters copy ``additional_kwargs``
into the API request, so these keys are excluded from embedding and LLM text and stripped from
messages handed to a model.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ctxguard import Decision, Session
from ctxguard.labels import METADATA_KEY, SIGNATURE_KEY, content_sha256
from ctxguard.retrieval import label_entries as core_label_entries
from ctxguard.scope import CONFIDENTIALITY_KEY, TENANT_KEY, TRUST_KEY

# What an admitted node or message also carries: the decision's action and its audit record id.
ACTION_KEY = "ctxguard_action"
RECORD_KEY = "ctxguard_record"

CTXGUARD_KEYS: tuple[str, ...] = (
    METADATA_KEY, SIGNATURE_KEY, TENANT_KEY, CONFIDENTIALITY_KEY, TRUST_KEY, ACTION_KEY, RECORD_KEY,
)


def without_ctxguard_keys(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``mapping`` with every ctxguard key removed."""
    return {k: v for k, v in mapping.items() if k not in CTXGUARD_KEYS}


def hidden_from_model(excluded: list[str]) -> list[str]:
    """``excluded`` (a node's excluded embed/LLM metadata keys) plus the ctxguard keys, as a new list."""
    return [*excluded, *(k for k in CTXGUARD_KEYS if k not in excluded)]


def label_entries(session: Session, decision: Decision, text: str) -> dict[str, str]:
    """Metadata for content that passed ``decision`` and now reads ``text``: its label for that text
    (``ctxguard.retrieval.label_entries``: re-signed when it verified, readable and unsigned when
    not), with the decision's action and audit record id."""
    entries = core_label_entries(session, decision.label.evolve(sha256=content_sha256(text)))
    entries[ACTION_KEY] = decision.action.value
    entries[RECORD_KEY] = decision.record_id
    return entries
