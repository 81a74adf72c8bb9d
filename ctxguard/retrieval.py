"""Retrieved content entering the context: admission, scope, and the label it leaves with.

Retrievers, node postprocessors and memories in every framework do the same four things with a
document, so they are done here once:

1. admit its text under its signed label (verified; a bad or missing signature falls back to the
   retriever's source, or to the lowest trust when a signature was claimed and failed);
2. keep it only when the decision lets it through *and* the retriever's scope (the session's tenant
   and clearance, plus an optional trust floor) permits its label: the scope comes from the
   session, never from the query or the model;
3. check the metadata the model would read with it under the same label, so a PII value or an
   injection hidden in a title does not ride in beside clean text;
4. relabel the text that is handed on: a verified label is re-signed over the new text (redaction
   and spotlighting change what the signature covers); one that failed verification is written
   readable but unsigned, because signing it here would turn a claim nobody vouched for into one
   that passes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .decision import Action, Decision
from .labels import METADATA_KEY, Label, content_sha256
from .scope import Scope, filter_fields
from .session import is_event_value

if TYPE_CHECKING:
    from .session import Session


@dataclass(frozen=True, slots=True)
class Retrieved:
    """One retrieved item after admission."""

    decision: Decision
    kept: bool  # the decision lets it through and the scope permits its label
    metadata_shown: bool  # the metadata the model reads with it passed with nothing found (True when none)
    label: Label  # its label for the text handed on (``decision.text``)
    entries: Mapping[str, str]  # the label as metadata entries for the text handed on (see the module docstring)


def admit_retrieved(session: Session, text: str, source: str, *, metadata: Mapping[str, Any] | None,
                    scope: Scope | None = None, model_metadata: str = "", require_label: bool = True) -> Retrieved:
    """Admit one retrieved text (see the module docstring); ``scope`` defaults to the session's.
    ``require_label``: see ``label_claim``."""
    scope = scope or session.scope()
    decision = session.admit(text, source, metadata=label_claim(metadata, require_label=require_label))
    kept = decision.allowed and scope.permits(decision.label)
    shown = True
    if kept and model_metadata:
        seen = session.admit(model_metadata, source, label=decision.label)
        shown = seen.action is Action.ALLOW and not seen.findings
    label = decision.label.evolve(sha256=content_sha256(decision.text))
    return Retrieved(decision, kept, shown, label, label_entries(session, label) if kept else {})


def label_claim(metadata: Mapping[str, Any] | None, *, require_label: bool) -> dict[str, Any] | None:
    """The metadata to verify a retrieved item's label from, or None to label it by its source.

    A retriever that scopes a shared store (``GuardedRetriever`` in either framework) requires a
    label: an item without one could be any tenant's, so it verifies as unlabelled (lowest trust,
    outside every tenant's scope) and is dropped. An observer of a retriever ctxguard does not scope
    (LangChain's callback handler) labels an unlabelled item by its source instead. An item that
    claims a label is always verified, in both.
    """
    if metadata and METADATA_KEY in metadata:
        return dict(metadata)
    return dict(metadata or {}) if require_label else None


def label_entries(session: Session, label: Label) -> dict[str, str]:
    """``label`` as metadata entries: signed when it verified, readable and unsigned when it did not."""
    if label.verified:
        return session.sign(label)
    return {METADATA_KEY: json.dumps(label.to_dict(), sort_keys=True), **filter_fields(label)}


def refuse_retrieval(session: Session, exc: BaseException, retriever: str) -> None:
    """A search that failed, or whose store could not apply the scope filter, returns nothing (never
    an unfiltered result); the audit log names the error's type and the retriever, not the query."""
    session.record_event("retrieval_refused", error=type(exc).__name__,
                         retriever=retriever if is_event_value(retriever) else "custom")
