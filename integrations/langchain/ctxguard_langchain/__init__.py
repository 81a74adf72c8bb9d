"""ctxguard for LangChain: a callback handler, create_agent middleware and a guarded retriever.

* ``CtxGuardCallbackHandler`` / ``AsyncCtxGuardCallbackHandler``: checks every model call, tool call,
  tool output and retrieval of any run (LCEL chains, agents); stops the run on a block. Callbacks
  cannot rewrite content.
* ``CtxGuardMiddleware`` (needs the ``agents`` extra, ``langchain`` v1): rewrites what the model sees
  and what tools get inside ``create_agent``; one session, or one per ``thread_id`` (``session_factory=``).
* ``chat_model_judge(model)``: any chat model as the firewall's judge for ambiguous tool calls.
* ``GuardedRetriever``: any retriever, scoped to the session's tenant and clearance, documents
  checked on their signed labels and returned redacted; ``label_documents`` signs them at ingestion.
"""

from __future__ import annotations

from .callback import AsyncCtxGuardCallbackHandler, CtxGuardCallbackHandler, RewriteNotApplied
from .judge import chat_model_judge
from .retriever import GuardedRetriever, label_documents, operator_filter, predicate_filter

__all__ = [
    "AsyncCtxGuardCallbackHandler",
    "CtxGuardCallbackHandler",
    "GuardedRetriever",
    "RewriteNotApplied",
    "chat_model_judge",
    "label_documents",
    "operator_filter",
    "predicate_filter",
]

# The middleware needs `langchain` v1 (the `agents` extra); the rest of the package does not.
try:
    from .middleware import (
        CtxGuardMiddleware,
        MissingThreadId,
        SessionUnavailable,
        aguarded_stream,
        guarded_stream,
    )
except ImportError:  # pragma: no cover - langchain not installed, or the module not present
    pass
else:
    __all__ += ["CtxGuardMiddleware", "MissingThreadId", "SessionUnavailable", "aguarded_stream", "guarded_stream"]
