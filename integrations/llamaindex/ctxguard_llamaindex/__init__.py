"""ctxguard for LlamaIndex: scoped retrieval, node admission, checked tools, labelled chat memory, audit events.

    from ctxguard_llamaindex import GuardedRetriever, label_nodes
    nodes = label_nodes(nodes, ingest_session)                  # signed labels in node metadata
    index = VectorStoreIndex(nodes, embed_model=...)
    retriever = GuardedRetriever(index.as_retriever(), session)  # tenant/clearance filter in the store,
    engine = RetrieverQueryEngine.from_args(retriever, llm=...)  # every node admitted, redacted, spotlit
    engine = GuardedQueryEngine(engine, session)                 # question admitted, answer checked

Enforcement is in the wrappers; ``CtxGuardEventHandler`` only observes (LlamaIndex swallows handler
exceptions). No policy logic lives here: every decision is the core's ``Session``.
"""

from ._keys import CTXGUARD_KEYS
from .embedding import HashingEmbedding
from .events import CtxGuardEventHandler
from .ingest import CtxGuardLabeler, label_nodes
from .memory import GuardedChatMemory, RecalledMessage
from .postprocessor import CtxGuardNodePostprocessor
from .query_engine import GuardedQueryEngine
from .retriever import GuardedRetriever, intersect, scope_filters
from .tools import GuardedTool, guard_tool, guard_tools

__all__ = [
    "CTXGUARD_KEYS",
    "CtxGuardEventHandler",
    "CtxGuardLabeler",
    "CtxGuardNodePostprocessor",
    "GuardedChatMemory",
    "GuardedQueryEngine",
    "GuardedRetriever",
    "GuardedTool",
    "HashingEmbedding",
    "RecalledMessage",
    "guard_tool",
    "guard_tools",
    "intersect",
    "label_nodes",
    "scope_filters",
]
