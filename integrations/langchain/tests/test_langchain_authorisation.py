"""Issue 14 inside a real create_agent run: tools described to the core, a chat model as the judge."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ctxguard_langchain import CtxGuardMiddleware, chat_model_judge
from ctxguard_langchain.testing import ScriptedChatModel
from langchain.agents import create_agent
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.tools import tool

from ctxguard import Firewall, Policy

POLICY = """
exfiltration: {allowed_domains: ["*"]}
tools:
  tools:
    list_documents: {class: read_only}
    acme_op_7: {class: side_effect}
"""
LISTING = "report-2023.pdf\nreport-2024.pdf\nbudget.xlsx"


def agent_run(tmp_path: Path, request: str, *, judge: Any = None,
              description: str = "Deletes a document from the shared folder.") -> tuple[list[str], list[Any]]:
    ran: list[str] = []

    @tool
    def list_documents() -> str:
        """List the documents in the shared folder."""
        return LISTING

    @tool(description=description)
    def acme_op_7(name: str) -> str:
        ran.append(name)
        return "done"

    model = ScriptedChatModel(replies=[
        AIMessage(content="", tool_calls=[{"name": "list_documents", "args": {}, "id": "c1"}]),
        AIMessage(content="", tool_calls=[{"name": "acme_op_7", "args": {"name": "report-2023.pdf"}, "id": "c2"}]),
        AIMessage(content="Done."),
    ])
    fw = Firewall(Policy.from_yaml(POLICY), audit=tmp_path / "audit.jsonl", signing_key=b"k" * 32, judge=judge)
    agent = create_agent(model, [list_documents, acme_op_7],
                         middleware=[CtxGuardMiddleware(fw, principal="alice", tenant="acme")])
    out = agent.invoke({"messages": [HumanMessage(content=request)]})
    return ran, out["messages"]


def test_a_tool_named_opaquely_is_authorised_by_its_description(tmp_path: Path) -> None:
    ran, _ = agent_run(tmp_path, "Delete the 2023 report from the shared folder.")
    assert ran == ["report-2023.pdf"]


def test_the_same_call_the_user_did_not_ask_for_does_not_run(tmp_path: Path) -> None:
    ran, _ = agent_run(tmp_path, "Which documents are in the shared folder?")
    assert ran == []
    assert "tools.unsupported_call" in (tmp_path / "audit.jsonl").read_text()


def test_a_scripted_chat_model_judge_is_asked_without_the_argument_values(tmp_path: Path) -> None:
    judge_model = ScriptedChatModel(replies=[AIMessage(content="YES")])
    # Neither the tool's name nor its description says what it does: the offline check cannot tell,
    # so the judge decides.
    ran, _ = agent_run(tmp_path, "Tidy up the shared folder for me.", judge=chat_model_judge(judge_model),
                       description="Acme folder operation number seven.")
    assert ran == ["report-2023.pdf"]
    prompt = judge_model.seen[0][0].content
    assert "acme_op_7" in prompt and "report-2023.pdf" not in prompt


def test_a_judge_that_says_no_keeps_the_call_from_running(tmp_path: Path) -> None:
    judge_model = ScriptedChatModel(replies=[AIMessage(content="NO.")])
    ran, _ = agent_run(tmp_path, "Tidy up the shared folder for me.", judge=chat_model_judge(judge_model),
                       description="Acme folder operation number seven.")
    assert ran == []
