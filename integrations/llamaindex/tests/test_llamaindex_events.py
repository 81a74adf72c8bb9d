"""CtxGuardEventHandler: LlamaIndex instrumentation events in the audit log, hashed, chain intact."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from ctxguard_llamaindex import CtxGuardEventHandler, GuardedRetriever, HashingEmbedding, label_nodes
from llama_index.core import VectorStoreIndex
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import TextNode
from llama_index_instrumentation import get_dispatcher

import ctxguard
from ctxguard import Firewall, Session

QUERY = "what is the refund window for carol@acme.com"


def test_handler_records_retrieval_and_llm_events_log_safe(fw: Firewall, acme: Session, audit_path: Path) -> None:
    nodes = label_nodes([TextNode(text="Refunds are accepted within thirty days of delivery.")], acme)
    index = VectorStoreIndex(nodes, embed_model=HashingEmbedding())
    engine = RetrieverQueryEngine.from_args(GuardedRetriever(index.as_retriever(), acme), llm=MockLLM())
    with CtxGuardEventHandler(acme) as handler:
        assert handler in get_dispatcher().event_handlers
        engine.query(QUERY)
    assert handler not in get_dispatcher().event_handlers

    raw = audit_path.read_text()
    events = [json.loads(line)["event"] for line in raw.splitlines()]
    mine = [e for e in events if e["type"] == "llamaindex_event" and e["session"] == acme.id]
    kinds = {e["event"] for e in mine}
    assert {"QueryStartEvent", "RetrievalStartEvent", "RetrievalEndEvent", "QueryEndEvent"} <= kinds
    assert kinds & {"LLMCompletionStartEvent", "LLMChatStartEvent", "LLMPredictEndEvent"}
    # The guarded retriever's own end event: one node, labelled and signed.
    ends = [e for e in mine if e["event"] == "RetrievalEndEvent" and e["signed"] == 1]
    assert ends and ends[0]["nodes"] == 1 and ends[0]["query_hmac"] == acme.content_hmac(QUERY)
    # Never the query, the document or the address: hashes and lengths only.
    assert "carol@acme.com" not in raw and "refund window" not in raw and "thirty days" not in raw
    report = ctxguard.verify(audit_path)
    assert report.ok, str(report)


def test_handler_exceptions_are_swallowed_by_llamaindex_so_it_only_observes(acme: Session) -> None:
    class Exploding(CtxGuardEventHandler):
        def handle(self, event: object, **kwargs: object) -> None:
            raise RuntimeError("a handler cannot stop anything")

    index = VectorStoreIndex(label_nodes([TextNode(text="Refunds within thirty days.")], acme),
                             embed_model=HashingEmbedding())
    with Exploding(acme):
        assert len(index.as_retriever().retrieve("refunds")) == 1  # the retrieval went on regardless


def test_record_event_refuses_raw_text(acme: Session) -> None:
    with pytest.raises(ValueError, match="not an identifier"):
        acme.record_event("llamaindex_event", query="what is the refund window for carol@acme.com")
    with pytest.raises(ValueError, match="reserved"):
        acme.record_event("llamaindex_event", tenant="globex")
    with pytest.raises(ValueError):
        acme.record_event("decision", op="forged")
    assert acme.record_event("llamaindex_event", query_hmac=acme.content_hmac("x"), nodes=3)
