"""One agent, many conversations: ``CtxGuardMiddleware(firewall, session_factory=...)`` in real runs.

A server builds one ``create_agent`` graph (ScriptedChatModel, real tools, an ``InMemorySaver``
checkpointer) and serves two users through it, alice at tenant acme and gus at tenant globex, each in
their own ``thread_id``. The principal and tenant come from ``config["configurable"]``, as a server
would set them from its authentication. The firewall is the real one (Presidio, spaCy) writing a
real audit file, which the tests read to see which session, principal and tenant each check ran under.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from ctxguard_langchain import (
    CtxGuardMiddleware,
    GuardedRetriever,
    MissingThreadId,
    SessionUnavailable,
    label_documents,
)
from ctxguard_langchain.testing import ScriptedChatModel
from langchain.agents import create_agent
from langchain.agents.middleware.types import ToolCallRequest
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool
from langgraph.checkpoint.memory import InMemorySaver

from ctxguard import Firewall, Policy, Session
from ctxguard.audit import verify

KEY = b"langchain-sessions-test-key-0001"
POLICY = """
redaction:
  entities:
    PERSON: {into_model: pseudonymize, out_to_user: allow}
tools:
  tools:
    search_kb: {class: read_only}
"""
ALICE = "Alice Johnson"
GUS = "Gustavo Fring"
GLOBEX_DOC = "Globex pricing sheet: the Q3 discount for Initech is 18 percent."


def firewall(tmp_path: Path) -> Firewall:
    tmp_path.mkdir(parents=True, exist_ok=True)
    return Firewall(Policy.from_yaml(POLICY), audit=tmp_path / "audit.jsonl", signing_key=KEY)


def records(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line)["event"] for line in (tmp_path / "audit.jsonl").read_text().splitlines()]


def run_config(thread_id: str, user: str, tenant: str) -> RunnableConfig:
    """What a server passes per request: the thread and the authenticated user, never from the message."""
    return {"configurable": {"thread_id": thread_id, "user_id": user, "tenant": tenant}}


class Factory:
    """An application's session factory: principal and tenant from ``configurable``; counts its calls."""

    def __init__(self, fw: Firewall) -> None:
        self.fw = fw
        self.opened: list[Session] = []
        self._lock = threading.Lock()

    def __call__(self, config: RunnableConfig) -> Session:
        conf = config["configurable"]
        session = self.fw.session(principal=conf["user_id"], tenant=conf["tenant"])
        with self._lock:
            self.opened.append(session)
        return session


def token_in(messages: list[BaseMessage], kind: str) -> str:
    text = " ".join(str(m.content) for m in messages)
    found = re.findall(rf"<{kind}_\d+>", text)
    assert found, f"no {kind} token in what the model saw"
    return str(found[-1])


def greet(messages: list[BaseMessage]) -> AIMessage:
    return AIMessage(f"Hello {token_in(messages, 'PERSON')}.")


def sent_text(messages: list[BaseMessage]) -> str:
    return " ".join(str(m.content) for m in messages)


class AllDocuments(BaseRetriever):
    """A shared knowledge base that cannot filter: every search returns every document it holds.

    With no store-side filter the session's own admission is what keeps a document in or out of
    scope, so the audit log shows which session (tenant) judged it.
    """

    docs: list[Document]

    def _get_relevant_documents(self, query: str, *, run_manager: Any, **kwargs: Any) -> list[Document]:
        return list(self.docs)


@pytest.fixture
def kb(tmp_path: Path) -> AllDocuments:
    """A shared knowledge base holding one document, signed at ingestion as globex's."""
    with firewall(tmp_path / "ingest") as fw, fw.session(principal="ingest", tenant="globex") as globex:
        return AllDocuments(docs=label_documents([Document(GLOBEX_DOC, id="g1")], globex, "retriever:kb"))


def kb_agent(mw: CtxGuardMiddleware, store: AllDocuments, replies: list[Any]) -> tuple[Any, ScriptedChatModel]:
    """One agent for every user; its KB tool searches with the session of the conversation it runs in."""

    @tool
    def search_kb(query: str, config: RunnableConfig) -> str:
        """Search the company knowledge base."""
        docs = GuardedRetriever(store, mw.session_for(config), source="retriever:kb").invoke(query)
        return "\n".join(d.page_content for d in docs) or "no documents found"

    model = ScriptedChatModel(replies=replies)
    return create_agent(model, tools=[search_kb], middleware=[mw], checkpointer=InMemorySaver()), model


def search(call_id: str) -> AIMessage:
    return AIMessage("", tool_calls=[{"name": "search_kb", "args": {"query": "Q3 discount"}, "id": call_id}])


# ---- two users, one agent -------------------------------------------------------------------------------
def test_two_tenants_on_one_agent_get_separate_sessions_vaults_and_scopes(
    tmp_path: Path, kb: AllDocuments
) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory)
    agent, model = kb_agent(mw, kb, [search("a1"), greet, search("g1"), greet])

    acme = agent.invoke({"messages": [HumanMessage(f"I'm {ALICE}. What is the Q3 discount?")]},
                        run_config("t-alice", "alice", "acme"))
    globex = agent.invoke({"messages": [HumanMessage(f"I'm {GUS}. What is our Q3 discount?")]},
                          run_config("t-gus", "gus", "globex"))

    # One session per conversation, with the principal and tenant the server gave.
    assert [(s.principal, s.tenant) for s in factory.opened] == [("alice", "acme"), ("gus", "globex")]
    assert mw.threads == ["t-alice", "t-gus"]
    # Separate vaults: each conversation's first person is <PERSON_1>, and each answer restores its own.
    assert ALICE not in sent_text(model.seen[1]) and GUS not in sent_text(model.seen[3])
    assert "<PERSON_1>" in sent_text(model.seen[1]) and "<PERSON_1>" in sent_text(model.seen[3])
    assert acme["messages"][-1].content == f"Hello {ALICE}."
    assert globex["messages"][-1].content == f"Hello {GUS}."
    # The globex-signed document is out of acme's scope and within globex's.
    acme_result = next(m for m in acme["messages"] if isinstance(m, ToolMessage))
    globex_result = next(m for m in globex["messages"] if isinstance(m, ToolMessage))
    assert "18 percent" not in str(acme_result.content) and "no documents found" in str(acme_result.content)
    assert "18 percent" in str(globex_result.content)

    # The audit log says who each check ran for: every record of alice's session is acme's, gus's globex's.
    recs = records(tmp_path)
    by_session = {s.id: s for s in factory.opened}
    decided = [r for r in recs if r["type"] == "decision"]
    assert decided and {r["session"] for r in decided} == set(by_session)
    for r in decided:
        s = by_session[r["session"]]
        assert (r["principal"], r["tenant"]) == (s.principal, s.tenant)
    kb_admits = [r for r in decided if r["op"] == "admit" and r["source"] == "retriever:kb"]
    acme_kb = [r for r in kb_admits if r["tenant"] == "acme"]
    globex_kb = [r for r in kb_admits if r["tenant"] == "globex"]
    assert acme_kb and all(r["decision"]["action"] == "block" for r in acme_kb)
    assert any("scope:" in json.dumps(r["decision"]["findings"]) for r in acme_kb)
    assert globex_kb and all(r["decision"]["action"] != "block" for r in globex_kb)

    mw.close()
    assert all(s.closed for s in factory.opened)
    assert verify(tmp_path / "audit.jsonl").ok


def test_the_same_thread_reuses_its_session_and_admits_each_message_once(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory)
    model = ScriptedChatModel(replies=[greet, greet])
    agent = create_agent(model, tools=[], middleware=[mw], checkpointer=InMemorySaver())
    config = run_config("t-1", "alice", "acme")

    agent.invoke({"messages": [HumanMessage(f"I'm {ALICE}.")]}, config)
    second = agent.invoke({"messages": [HumanMessage("Do you remember my name?")]}, config)

    assert len(factory.opened) == 1 and mw.session_for(config) is factory.opened[0]
    # The second turn's history (first question, first answer) was not admitted again.
    admits = [r for r in records(tmp_path) if r["type"] == "decision" and r["op"] == "admit"]
    assert [r["source"] for r in admits] == ["user", "user"]
    derived = [r for r in records(tmp_path) if r["type"] == "decision" and r["source"] == "model:history"]
    assert len(derived) == 1  # the first answer, once, when the second turn sent it back to the model
    # The same vault across turns: the name from turn one is still <PERSON_1>, restored in turn two's answer.
    assert "<PERSON_1>" in sent_text(model.seen[1]) and ALICE not in sent_text(model.seen[1])
    assert second["messages"][-1].content == f"Hello {ALICE}."


def test_least_recently_used_sessions_are_evicted_and_closed(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory, max_sessions=2)
    model = ScriptedChatModel(replies=[AIMessage("ok")] * 5)
    agent = create_agent(model, tools=[], middleware=[mw], checkpointer=InMemorySaver())

    for thread in ("t-a", "t-b", "t-a", "t-c"):  # t-a used again, so t-b is the least recently used
        agent.invoke({"messages": [HumanMessage("hi")]}, run_config(thread, f"user-{thread}", "acme"))

    a, b, c = factory.opened
    assert (a.principal, b.principal, c.principal) == ("user-t-a", "user-t-b", "user-t-c")
    assert b.closed and not a.closed and not c.closed
    assert mw.threads == ["t-a", "t-c"]
    ended = [r["session"] for r in records(tmp_path) if r["type"] == "session_end"]
    assert ended == [b.id]
    # An evicted thread that comes back gets a fresh session (its history is admitted into it again).
    agent.invoke({"messages": [HumanMessage("back again")]}, run_config("t-b", "user-t-b", "acme"))
    assert len(factory.opened) == 4 and factory.opened[3].principal == "user-t-b" and a.closed
    mw.close()
    assert all(s.closed for s in factory.opened)


# ---- failing closed ---------------------------------------------------------------------------------------
def test_a_run_without_thread_id_fails_closed_before_the_model(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory)
    model = ScriptedChatModel(replies=[AIMessage("should not be produced")])
    agent = create_agent(model, tools=[], middleware=[mw])  # no checkpointer: LangGraph itself would not ask

    with pytest.raises(MissingThreadId, match="thread_id"):
        agent.invoke({"messages": [HumanMessage("hi")]}, {"configurable": {"user_id": "alice", "tenant": "acme"}})
    with pytest.raises(MissingThreadId):
        asyncio.run(agent.ainvoke({"messages": [HumanMessage("hi")]}))
    assert model.seen == [] and factory.opened == []
    with pytest.raises(MissingThreadId):
        mw.session_for()  # outside a run there is no thread either


class Boom(KeyError):
    pass


@pytest.mark.parametrize("factory_result", ["raises", "not a session", "closed session", "other firewall"])
def test_a_failing_factory_means_no_model_call(tmp_path: Path, factory_result: str) -> None:
    fw = firewall(tmp_path)

    def factory(config: RunnableConfig) -> Any:
        if factory_result == "raises":
            raise Boom("alice@acme.com is not in the directory")  # a message that must not be repeated
        if factory_result == "not a session":
            return {"principal": "alice"}
        if factory_result == "closed session":
            s = fw.session(principal="alice", tenant="acme")
            s.close()
            return s
        return firewall(tmp_path / "other").session(principal="alice", tenant="acme")

    model = ScriptedChatModel(replies=[AIMessage("should not be produced")])
    mw = CtxGuardMiddleware(fw, session_factory=factory)
    agent = create_agent(model, tools=[], middleware=[mw], checkpointer=InMemorySaver())
    result = agent.invoke({"messages": [HumanMessage("hi")]}, run_config("t-1", "alice", "acme"))

    answer = str(result["messages"][-1].content)
    assert model.seen == [] and "the model was not called" in answer and "session_factory" in answer
    assert "alice@acme.com" not in answer
    assert mw.threads == []  # nothing cached: the next run asks the factory again


def test_a_factory_cannot_hand_one_session_to_two_conversations(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    shared = fw.session(principal="alice", tenant="acme")
    model = ScriptedChatModel(replies=[AIMessage("first"), AIMessage("should not be produced")])
    mw = CtxGuardMiddleware(fw, session_factory=lambda config: shared)
    agent = create_agent(model, tools=[], middleware=[mw], checkpointer=InMemorySaver())

    agent.invoke({"messages": [HumanMessage("hi")]}, run_config("t-1", "alice", "acme"))
    other = agent.invoke({"messages": [HumanMessage("hi")]}, run_config("t-2", "gus", "globex"))

    assert len(model.seen) == 1
    assert "another conversation" in str(other["messages"][-1].content)
    assert mw.threads == ["t-1"] and not shared.closed


def test_a_failing_factory_means_the_tool_does_not_run(tmp_path: Path) -> None:
    # The model hook opens the session first in a real run; this drives the tool hook alone, as a
    # ToolNode would after the thread's session was evicted and the factory then failed.
    fw = firewall(tmp_path)
    ran: list[str] = []

    @tool
    def search_kb(query: str) -> str:
        """Search the knowledge base."""
        ran.append(query)
        return "result"

    def factory(config: RunnableConfig) -> Session:
        raise RuntimeError("directory down")

    mw = CtxGuardMiddleware(fw, session_factory=factory)
    call = {"name": "search_kb", "args": {"query": "x"}, "id": "c1", "type": "tool_call"}
    runtime: Any = SimpleNamespace(config=run_config("t-1", "alice", "acme"))
    request = ToolCallRequest(tool_call=call, tool=search_kb, state={}, runtime=runtime)  # type: ignore[arg-type]

    def run(req: ToolCallRequest) -> ToolMessage:
        return ToolMessage(content=search_kb.invoke(req.tool_call["args"]), tool_call_id="c1")

    async def arun(req: ToolCallRequest) -> ToolMessage:
        return run(req)

    for out in (mw.wrap_tool_call(request, run), asyncio.run(mw.awrap_tool_call(request, arun))):
        assert isinstance(out, ToolMessage) and out.status == "error"
        assert "session_factory raised RuntimeError" in str(out.content)
    assert ran == []


def test_factory_mode_refuses_per_middleware_identity_and_closes_for_good(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    with pytest.raises(TypeError, match="per conversation"):
        CtxGuardMiddleware(fw, session_factory=Factory(fw), tenant="acme")
    with fw.session(principal="alice", tenant="acme") as s, pytest.raises(TypeError):
        CtxGuardMiddleware(s, session_factory=Factory(fw))
    with pytest.raises(ValueError, match="max_sessions"):
        CtxGuardMiddleware(fw, session_factory=Factory(fw), max_sessions=0)

    mw = CtxGuardMiddleware(fw, session_factory=Factory(fw))
    mw.close()
    with pytest.raises(SessionUnavailable):
        mw.session_for(run_config("t-1", "alice", "acme"))


# ---- async and concurrency ----------------------------------------------------------------------------------
def test_async_runs_of_two_tenants_at_once_keep_their_sessions_apart(tmp_path: Path, kb: AllDocuments) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory)

    def reply(messages: list[BaseMessage]) -> AIMessage:
        if not any(isinstance(m, ToolMessage) for m in messages):
            return search(f"c{len(messages)}")
        return greet(messages)

    agent, model = kb_agent(mw, kb, [reply] * 4)

    async def both() -> list[dict[str, Any]]:
        return list(await asyncio.gather(
            agent.ainvoke({"messages": [HumanMessage(f"I'm {ALICE}. Q3 discount?")]},
                          run_config("t-alice", "alice", "acme")),
            agent.ainvoke({"messages": [HumanMessage(f"I'm {GUS}. Q3 discount?")]},
                          run_config("t-gus", "gus", "globex")),
        ))

    acme, globex = asyncio.run(both())

    assert sorted((s.principal, s.tenant) for s in factory.opened) == [("alice", "acme"), ("gus", "globex")]
    assert acme["messages"][-1].content == f"Hello {ALICE}."
    assert globex["messages"][-1].content == f"Hello {GUS}."
    acme_result = next(m for m in acme["messages"] if isinstance(m, ToolMessage))
    globex_result = next(m for m in globex["messages"] if isinstance(m, ToolMessage))
    assert "18 percent" not in str(acme_result.content) and "18 percent" in str(globex_result.content)
    for seen in model.seen:  # no model call ever saw the other user's name
        text = sent_text(seen)
        assert ALICE not in text and GUS not in text
    by_session = {s.id: s.tenant for s in factory.opened}
    assert all(r["tenant"] == by_session[r["session"]] for r in records(tmp_path) if r["type"] == "decision")
    mw.close()


def test_threads_opening_at_once_get_one_session_each(tmp_path: Path) -> None:
    fw = firewall(tmp_path)
    factory = Factory(fw)
    mw = CtxGuardMiddleware(fw, session_factory=factory, max_sessions=8)
    configs = [run_config(f"t-{i % 4}", f"user-{i % 4}", "acme") for i in range(16)]
    got: list[Session] = []
    lock = threading.Lock()

    def open_one(config: RunnableConfig) -> None:
        s = mw.session_for(config)
        with lock:
            got.append(s)

    workers = [threading.Thread(target=open_one, args=(c,)) for c in configs]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    kept = {id(s): s for s in got}
    assert len(kept) == 4 and sorted(mw.threads) == ["t-0", "t-1", "t-2", "t-3"]
    assert all(s.principal == f"user-{t[-1]}" for t in mw.threads for s in [mw.session_for(run_config(t, "", ""))])
    # Sessions opened twice in a race were closed at once; the kept ones stay open until close().
    spare = [s for s in factory.opened if id(s) not in kept]
    assert all(s.closed for s in spare) and not any(s.closed for s in kept.values())
    mw.close()
    assert all(s.closed for s in factory.opened)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    import socket

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("network access in a ctxguard test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    yield
