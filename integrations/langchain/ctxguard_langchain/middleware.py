"""``CtxGuardMiddleware``: ctxguard inside LangChain v1's ``create_agent``, one line to add.

    agent = create_agent(model, tools, middleware=[CtxGuardMiddleware(fw, principal="alice", tenant="acme")])

It translates between LangChain objects and the three entry points of a ``ctxguard.Session``; every
rule lives in the policy, none here.

* **Before the model** (``wrap_model_call``): the model gets the whole history redacted and
  spotlit, not only the newest message. User messages are admitted as ``user``; tool results with
  their tool's source (``tool:<name>`` unless ``tool_sources`` says otherwise), so they are
  spotlit as data and an injection marks them hostile; the model's own earlier turns, including the
  arguments of its earlier tool calls, go through ``Session.admit_derived`` (redacted, pseudonyms
  consistent, but not a new source). In content-block lists only blocks carrying a ``text`` field
  are rewritten (whatever their type: ``text-plain`` too); images and other blocks pass as they are
  (and are not inspected). Each message version is admitted once
  per session, so repeated model calls neither re-admit, re-charge budgets nor repeat audit records.
  The system prompt is the developer's and passes unchanged, plus ``session.system_notice()``
  (how spotlit data is marked) when spotlighting is on.

  Why ``wrap_model_call`` and not ``before_model``: ``before_model`` can only change the agent's
  *state*. Rewriting state to what the model may see loses the originals: a tool would then run
  with redacted or blanked arguments taken from the rewritten ``AIMessage`` (the failure behind the
  recursion errors users reported with LangChain's ``PIIMiddleware``), the user's own messages are
  overwritten in the checkpoint, and every later turn would redact redacted text again.
  ``wrap_model_call`` rewrites only the request the model receives; the state keeps what was said.
  (The state, and so the checkpointer, therefore holds the real values of the conversation: protect
  it as you protect the conversation.) Tool results are the exception: the state keeps the
  admitted version, because that is the content the rest of the run may use.

* **Around each tool call** (``wrap_tool_call``): ``check_tool_call`` before it runs. A block
  becomes an error ``ToolMessage`` saying why (the tool never runs, the run continues and the
  model can recover); a redaction runs the tool with the redacted arguments (never blanked ones:
  without arguments to pass the call is blocked). ``require_approval`` goes to the session's approver
  when it has one; otherwise, with ``interrupt_on_approval`` (default), to a LangGraph ``interrupt``
  (needs a checkpointer and a ``thread_id``). Resume with ``Command(resume=answer)``:
  ``{"type": "approve"}``, ``{"type": "reject", "message": ...}`` or
  ``{"type": "edit", "args": {...}}`` (HumanInTheLoopMiddleware's ``edited_action`` shape works too);
  an edited call is checked again in full (``Session.resolve_approval``), so an edit cannot smuggle
  a different destination past the policy. The tool's result is admitted with the tool's label and
  replaces the ``ToolMessage`` content (a blocked result becomes an error ``ToolMessage``); so do the
  messages a tool adds through a ``Command`` or a list of them. A ``return_direct`` tool's result
  ends the run as its answer, so it also goes through ``check_output`` (refused: an error result).

* **After the model** (in ``wrap_model_call``): a final ``AIMessage`` (no valid tool calls: the run
  ends on it) goes through ``check_output``; the answer kept is the decision's text (pseudonyms
  restored where the policy allows), or a short refusal when it is blocked. A structured response
  (``response_format``) is checked as JSON; a refused one is dropped, and the model's messages are
  replaced by the refusal (an allowed one is kept as the model wrote it, pseudonyms included).

Streaming: ``agent.stream(..., stream_mode="messages")`` hands out the model's tokens *while the model
runs*, before this middleware sees the finished message, so those tokens are not checked (they
still carry the pseudonyms, and a blocked answer has already streamed). The state and the
``"updates"``/``"values"`` stream modes carry the checked answer. To stream to a user, use
``guarded_stream`` (``aguarded_stream``), which passes the tokens through
``session.stream_output()``, a hold-back window that releases only checked text.

Ordering: put ``CtxGuardMiddleware`` last in ``middleware=[...]``. The first middleware is the
outermost, so the last one sees the request exactly as the model will and the tool call exactly as
the tool will, after every other middleware changed them.

Sessions: a ``Session`` is one principal's conversation (tenant scope, pseudonym vault, provenance,
budget, and here the admission cache). ``CtxGuardMiddleware(session)`` and
``CtxGuardMiddleware(firewall, principal=..., tenant=...)`` guard one conversation.
For one agent serving many users, ``CtxGuardMiddleware(firewall, session_factory=fn)`` keeps one
session per LangGraph ``thread_id`` (read from the run's config in every hook), opened by
``fn(config)`` from the principal and tenant the *server* put in ``config["configurable"]``, never
from message content; bounded (``max_sessions``, least recently used closed first) and thread-safe.
A run without a ``thread_id`` raises ``MissingThreadId``; a factory that fails blocks the model call
and the tool calls of that run. See ``ctxguard_langchain._sessions``.

Fail closed: an exception inside ctxguard blocks (the session's checks already do that; this
adapter turns its own failures into a blocked call, a withheld result or an answer that was not
produced), while LangGraph's own control flow (``interrupt``) passes through.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import threading
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, cast

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain.agents.middleware.types import ExtendedModelResponse, ToolCallRequest
from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    BaseMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.runnables import RunnableConfig
from langgraph.errors import GraphBubbleUp
from langgraph.types import Command, interrupt
from pydantic import BaseModel

from ctxguard import ApprovalResult, Decision, Firewall, Session, approvals
from ctxguard.approvals import Approver
from ctxguard.decision import Action, first_refused, refusal
from ctxguard.history import DERIVED_SOURCE, source_for_role

from . import _messages
from ._sessions import ConversationTable, MissingThreadId, SessionFactory, SessionUnavailable, run_config, thread_id_of
from ._streaming import aguarded_stream, guarded_stream

# The source under which the model's own earlier output is re-admitted (Session.admit_derived).
DERIVED = DERIVED_SOURCE

ModelResult = ModelResponse[Any] | AIMessage | ExtendedModelResponse[Any]
ToolResult = ToolMessage | Command[Any]
# A tool may also return a list of ToolMessages and Commands: ToolNode accepts it and hands it through the
# tool hooks, although LangChain's hook types leave it out.
ToolOutput = ToolResult | list[ToolResult]


@dataclass(frozen=True, slots=True)
class _Pending:
    """A message version not admitted yet: where it sits, its cache key, source and texts."""

    key: str
    message: BaseMessage
    source: str
    texts: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Settings:
    """The middleware's options, shared by every conversation it guards."""

    interrupt_on_approval: bool
    check_final_answer: bool
    tool_sources: Mapping[str, str]
    system_notice: bool

    def source_for_tool(self, name: str) -> str:
        return source_for_role("tool", name=name, tool_sources=self.tool_sources)


class _Conversation:
    """One conversation's guard: its session and the message versions admitted in it.

    The admission cache belongs with the session: a message admitted in one session was redacted with
    that session's vault and scoped to its tenant, so another conversation must admit it afresh.
    """

    def __init__(self, session: Session, settings: _Settings) -> None:
        self.session = session
        self.settings = settings
        # message key -> the version the model sees; written once per message version.
        self._views: dict[str, BaseMessage] = {}
        self._described: set[str] = set()
        self._lock = threading.Lock()

    # ---- before (and after) the model -------------------------------------------------------------
    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResult:
        try:
            views, pending = self._plan(request.messages)
            checked = [[self._check_text(t, p.source) for t in p.texts] for p in pending]
            guarded = self._guarded_request(request, views, pending, checked)
        except GraphBubbleUp:
            raise
        except Exception as exc:  # fail closed: the model is not called with content nobody checked
            return _not_called(exc)
        response = handler(guarded)
        if not self.settings.check_final_answer:
            return response
        return self._checked_response(response)

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResult:
        try:
            views, pending = self._plan(request.messages)
            checked = [[await self._acheck_text(t, p.source) for t in p.texts] for p in pending]
            guarded = self._guarded_request(request, views, pending, checked)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return _not_called(exc)
        response = await handler(guarded)
        if not self.settings.check_final_answer:
            return response
        return await asyncio.to_thread(self._checked_response, response)

    def _plan(self, messages: Sequence[BaseMessage]) -> tuple[list[BaseMessage | str], list[_Pending]]:
        """Each message's view if it was admitted before, else the key of the admission it waits for."""
        views: list[BaseMessage | str] = []
        pending: dict[str, _Pending] = {}
        for msg in messages:
            k = _messages.key(msg)
            with self._lock:
                seen = self._views.get(k)
            if seen is not None:
                views.append(seen)
                continue
            views.append(k)
            if k not in pending:
                pending[k] = _Pending(k, msg, self._source_of(msg, messages), tuple(_messages.texts(msg)))
        return views, list(pending.values())

    def _guarded_request(
        self,
        request: ModelRequest[Any],
        views: list[BaseMessage | str],
        pending: list[_Pending],
        checked: list[list[Decision]],
    ) -> ModelRequest[Any]:
        for p, decisions in zip(pending, checked, strict=True):
            self._remember(p.key, _messages.substitute(p.message, [d.shown_to_model() for d in decisions]))
        with self._lock:
            messages = [self._views[v] if isinstance(v, str) else v for v in views]
        return request.override(messages=cast("list[AnyMessage]", messages),
                                system_message=self._with_notice(request.system_message))

    def _source_of(self, msg: BaseMessage, history: Sequence[BaseMessage]) -> str:
        name = (msg.name or _tool_name(msg.tool_call_id, history)) if isinstance(msg, ToolMessage) else ""
        return source_for_role(_messages.role(msg), name=name, tool_sources=self.settings.tool_sources)

    def _check_text(self, text: str, source: str) -> Decision:
        return self.session.history.admit(text, source)

    async def _acheck_text(self, text: str, source: str) -> Decision:
        return await asyncio.to_thread(self.session.history.admit, text, source)

    def _with_notice(self, system: SystemMessage | None) -> SystemMessage | None:
        notice = self.session.system_notice() if self.settings.system_notice else ""
        if not notice:
            return system
        if system is None:
            return SystemMessage(content=notice)
        content = system.content
        if isinstance(content, str):
            if notice in content:
                return system
            return system.model_copy(update={"content": f"{content}\n\n{notice}" if content else notice})
        if any(isinstance(b, dict) and b.get("text") == notice for b in content):
            return system
        return system.model_copy(update={"content": [*content, {"type": "text", "text": notice}]})

    def _checked_answer(self, msg: BaseMessage) -> BaseMessage:
        """A final answer as the user may see it: checked, pseudonyms restored, or refused."""
        try:
            texts = _messages.texts(msg)
            decisions = [self.session.check_output(t) for t in texts]
            # Reasoning is shown by many UIs: it is checked too, though only text is rewritten (a
            # provider's signature covers its reasoning, which must come back to it unchanged).
            shown = [self.session.check_output(t) for t in _messages.reasoning_texts(msg)]
        except Exception as exc:
            return _refused(msg, f"check failed: {type(exc).__name__}")
        refused = first_refused([*decisions, *shown])
        if refused is not None:
            return _refused(msg, refused.reason or refused.action.value)
        return _messages.substitute(msg, [d.text for d in decisions])

    def _checked_response(self, response: ModelResult) -> ModelResult:
        """The model's response as the user may see it: its final answer and its structured response checked."""
        model_response = _model_response(response)
        if model_response.structured_response is not None:
            # The structured response is an answer too (``result["structured_response"]``), whether it came
            # in the message text (provider strategy) or as a tool call (tool strategy). A blocked one is
            # dropped with the messages that carry it; an allowed one is kept as the model wrote it.
            reason = self._refusal_of(model_response.structured_response)
            if reason is not None:
                notice = AIMessage(content=refusal("answer", reason))
                return _replace_result(response, [notice], structured_response=None)
        return _replace_result(response, [self._checked_answer(m) if _is_final(m) else m
                                          for m in model_response.result])

    def _refusal_of(self, structured: Any) -> str | None:
        """Why ``check_output`` refuses a structured response, or None when it passes."""
        try:
            decision = self.session.check_output(_structured_text(structured))
        except Exception as exc:
            return f"check failed: {type(exc).__name__}"
        return None if decision.allowed else decision.reason or decision.action.value

    # ---- around each tool call --------------------------------------------------------------------
    def _describe(self, request: ToolCallRequest) -> None:
        """Tell the session what the tool is (name, description, argument names), once per tool: the
        core's authorisation reads a tool's action from them when its name alone does not say."""
        tool = getattr(request, "tool", None)
        if tool is None or getattr(tool, "name", None) in self._described:
            return
        params = getattr(tool, "args", None) or {}
        description = str(getattr(tool, "description", "") or "")
        self.session.describe_tools([{"name": str(tool.name), "description": description,
                                      "parameters": [str(k) for k in params]}])
        self._described.add(str(tool.name))

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        call = request.tool_call
        try:
            self._describe(request)
            decision = self._decide(call)
            to_run = self._allowed_request(request, decision)
        except GraphBubbleUp:
            raise
        except Exception as exc:  # fail closed: a call that could not be checked does not run
            return self._blocked_call(call, f"check failed: {type(exc).__name__}")
        if isinstance(to_run, ToolMessage):
            return to_run
        result: ToolOutput = handler(to_run)
        try:
            texts = _result_texts(result)
            admitted = [self._admit_tool_text(t, call["name"]) for t in texts]
            answers = [self.session.check_output(t) for t in texts] if self._ends_run(request) else []
            return cast(ToolResult, self._admit_result(result, call, admitted, answers))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._blocked_result(call, f"check failed: {type(exc).__name__}")

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        call = request.tool_call
        try:
            self._describe(request)
            decision = await self._adecide(call)
            to_run = self._allowed_request(request, decision)
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._blocked_call(call, f"check failed: {type(exc).__name__}")
        if isinstance(to_run, ToolMessage):
            return to_run
        result: ToolOutput = await handler(to_run)
        try:
            source = self.settings.source_for_tool(call["name"])
            texts = _result_texts(result)
            admitted = [await self.session.aadmit(t, source=source) for t in texts]
            answers = [await self.session.acheck_output(t) for t in texts] if self._ends_run(request) else []
            return cast(ToolResult, self._admit_result(result, call, admitted, answers))
        except GraphBubbleUp:
            raise
        except Exception as exc:
            return self._blocked_result(call, f"check failed: {type(exc).__name__}")

    def _decide(self, call: Mapping[str, Any]) -> Decision:
        name, args = call["name"], call.get("args") or {}
        s = self.session
        if not (self.settings.interrupt_on_approval and s.approver is None):
            return s.check_tool_call(name, args)
        decision = s.check_tool_call_deferred(name, args)
        if decision.action is Action.REQUIRE_APPROVAL and decision.enforced:
            # First run: interrupt() pauses the graph here. On resume the tool node runs again from the
            # top, the same check gives the same pending decision, and interrupt() returns the answer.
            answer = interrupt(approval_request(call, decision))
            decision = s.resolve_approval(name, args, decision, approval_result(answer, name))
        return decision

    async def _adecide(self, call: Mapping[str, Any]) -> Decision:
        name, args = call["name"], call.get("args") or {}
        s = self.session
        if not (self.settings.interrupt_on_approval and s.approver is None):
            return await s.acheck_tool_call(name, args)
        decision = await asyncio.to_thread(s.check_tool_call_deferred, name, args)
        if decision.action is Action.REQUIRE_APPROVAL and decision.enforced:
            answer = interrupt(approval_request(call, decision))
            decision = await asyncio.to_thread(s.resolve_approval, name, args, decision,
                                               approval_result(answer, name))
        return decision

    def _allowed_request(self, request: ToolCallRequest, decision: Decision) -> ToolCallRequest | ToolMessage:
        """The request to run, with the arguments the decision lets through; or the message saying why not."""
        call = request.tool_call
        if not decision.allowed:
            return self._blocked_call(call, decision.reason or decision.action.value)
        if decision.args is None:  # an allowed call always carries its arguments; anything else is a bug
            return self._blocked_call(call, "the check returned no arguments to run the tool with")
        args = _plain(decision.args)
        if args == call.get("args"):
            return request
        return request.override(tool_call={**call, "args": args})

    def _admit_tool_text(self, text: str, tool: str) -> Decision:
        return self.session.admit(text, source=self.settings.source_for_tool(tool))

    def _ends_run(self, request: ToolCallRequest) -> bool:
        """Whether the tool's result is the run's answer (a ``return_direct`` tool), checked as one."""
        return self.settings.check_final_answer and bool(getattr(request.tool, "return_direct", False))

    def _admit_result(self, result: ToolOutput, call: Mapping[str, Any], admitted: list[Decision],
                      answers: Sequence[Decision] = ()) -> ToolOutput:
        """The tool's result with each text replaced by its admitted version; registered as admitted.

        ``answers`` are the output checks of a result that ends the run: any refusal withholds it.
        """
        refused = first_refused([*admitted, *answers])
        if refused is not None:
            return self._blocked_result(call, refused.reason or refused.action.value)
        shown = iter(d.text for d in admitted)

        def admit(msg: BaseMessage) -> BaseMessage:
            n = len(_messages.texts(msg))
            view = _messages.substitute(msg, [next(shown) for _ in range(n)])
            if not isinstance(view, ToolMessage) and view.id is None:
                # A message a tool adds through a Command is keyed by id; give it one now so the
                # version registered here is the one the state will hold.
                view = view.model_copy(update={"id": f"ctxguard-{uuid.uuid4().hex}"})
            self._remember(_messages.key(view), view)
            return view

        def admit_item(item: ToolResult) -> ToolResult:
            if isinstance(item, ToolMessage):
                return cast(ToolMessage, admit(item))
            if isinstance(item, Command) and isinstance(item.update, dict):
                msgs = item.update.get("messages")
                if isinstance(msgs, list):
                    new = [admit(m) if isinstance(m, BaseMessage) else m for m in msgs]
                    return dataclasses.replace(item, update={**item.update, "messages": new})
            return item

        if isinstance(result, list):
            return [admit_item(item) for item in result]
        return admit_item(result)

    def _blocked_call(self, call: Mapping[str, Any], reason: str) -> ToolMessage:
        return self._error_message(call, refusal("call", reason))

    def _blocked_result(self, call: Mapping[str, Any], reason: str) -> ToolMessage:
        return self._error_message(call, refusal("tool result", reason))

    def _error_message(self, call: Mapping[str, Any], text: str) -> ToolMessage:
        # ctxguard's own words, not data: registered as seen, so the model gets them as they are.
        msg = ToolMessage(content=text, tool_call_id=call.get("id") or "", name=call.get("name"), status="error")
        self._remember(_messages.key(msg), msg)
        return msg

    def _remember(self, key: str, view: BaseMessage) -> None:
        with self._lock:
            self._views.setdefault(key, view)


class CtxGuardMiddleware(AgentMiddleware[AgentState[Any], Any, Any]):
    """Enforces a ctxguard policy on everything a ``create_agent`` agent reads, calls and answers.

    Three ways to give it sessions:

    * ``CtxGuardMiddleware(session)``: a session you opened, for an agent that serves one conversation.
    * ``CtxGuardMiddleware(firewall, principal=..., tenant=..., clearance=...)``: opens that one session
      (``close()`` ends it).
    * ``CtxGuardMiddleware(firewall, session_factory=fn)``: one agent serving many users. Each LangGraph
      conversation (``config["configurable"]["thread_id"]``) gets its own session, opened on its first
      model or tool call by ``fn(config)`` with the run's ``RunnableConfig``, and kept for later runs of
      the same thread (its admission cache with it) until ``max_sessions`` newer conversations push it
      out (least recently used first; an evicted session is closed, and the thread's next run opens a
      fresh one that admits the checkpointed history again).

    With a factory the principal and tenant must come from the application, never from the
    conversation: read them in ``fn`` from ``config["configurable"]``, which your server fills in from
    its own authentication (``agent.invoke(inputs, {"configurable": {"thread_id": t, "user_id": u,
    "tenant": org}})``), not from message content or anything a model or a user wrote. The
    ``thread_id`` must be bound to that user by the server as well (it already selects the user's
    checkpointed history). A run without a ``thread_id`` raises ``MissingThreadId``: there is no
    shared fallback session. A factory that raises, or returns anything but a new, open ``Session`` of
    ``firewall`` (one already serving another thread is refused too), fails closed: the model is not
    called (the run ends on an ``AIMessage`` saying so) and no tool runs (an error ``ToolMessage``).
    The middleware owns the sessions its factory returns: ``close()`` closes them all.

    ``approver`` is any ctxguard approver (see ``ctxguard.approvals``); with a session it is installed
    on that session unless the session already has another one. With a factory, give the approver
    to the sessions the factory opens.
    """

    def __init__(
        self,
        guard: Session | Firewall,
        *,
        principal: str | None = None,
        tenant: str = "",
        clearance: str | None = None,
        approver: Approver | None = None,
        interrupt_on_approval: bool = True,
        check_final_answer: bool = True,
        tool_sources: Mapping[str, str] | None = None,
        system_notice: bool = True,
        session_factory: SessionFactory | None = None,
        max_sessions: int = 1024,
    ) -> None:
        super().__init__()
        self._settings = _Settings(interrupt_on_approval=interrupt_on_approval, check_final_answer=check_final_answer,
                                   tool_sources=MappingProxyType(dict(tool_sources or {})),
                                   system_notice=system_notice)
        self._single: _Conversation | None = None
        self._table: ConversationTable[_Conversation] | None = None
        self._owns_session = False
        if session_factory is not None:
            if not isinstance(guard, Firewall):
                raise TypeError("session_factory= needs CtxGuardMiddleware(firewall, session_factory=...)")
            if principal is not None or tenant or clearance is not None:
                raise TypeError("with session_factory= the factory sets principal, tenant and clearance "
                                "per conversation")
            if approver is not None:
                raise TypeError("with session_factory= give the approver to the sessions the factory opens")
            if not callable(session_factory):
                raise TypeError("session_factory must be a callable taking the run's RunnableConfig")
            settings = self._settings
            self._table = ConversationTable(firewall=guard, factory=session_factory,
                                            wrap=lambda s: _Conversation(s, settings),
                                            session_of=lambda c: c.session, max_sessions=max_sessions)
        elif isinstance(guard, Session):
            if principal is not None or tenant or clearance is not None:
                raise TypeError("principal, tenant and clearance are the session's: pass a Firewall to set them here")
            if approver is not None:
                if guard.approver is not None and guard.approver is not approver:
                    raise ValueError("the session already has a different approver")
                guard.approver = approver
            self._single = _Conversation(guard, self._settings)
        elif isinstance(guard, Firewall):
            if not principal:
                raise TypeError("CtxGuardMiddleware(firewall, ...) needs principal= (who the conversation is with), "
                                "or session_factory= (one session per conversation)")
            self._single = _Conversation(guard.session(principal, tenant, clearance, approver=approver), self._settings)
            self._owns_session = True
        else:
            raise TypeError(f"CtxGuardMiddleware needs a ctxguard Session or Firewall, not {type(guard).__name__}")

    # ---- options (read-only: every conversation shares them) -----------------------------------------
    @property
    def interrupt_on_approval(self) -> bool:
        return self._settings.interrupt_on_approval

    @property
    def check_final_answer(self) -> bool:
        return self._settings.check_final_answer

    @property
    def tool_sources(self) -> Mapping[str, str]:
        return self._settings.tool_sources

    @property
    def system_notice(self) -> bool:
        return self._settings.system_notice

    # ---- sessions --------------------------------------------------------------------------------------
    @property
    def session(self) -> Session:
        """The session: the one given or opened, or with a factory the current run's (``session_for()``)."""
        if self._single is not None:
            return self._single.session
        return self.session_for()

    def session_for(self, config: RunnableConfig | None = None) -> Session:
        """The session of ``config``'s conversation (default: the run in progress), opened if it has none.

        For code that needs the same session as the middleware: a tool that takes ``config:
        RunnableConfig`` and builds a ``GuardedRetriever`` for it, or ``guarded_stream(agent, inputs,
        mw.session_for(config), config=config)``. Raises ``MissingThreadId`` without a ``thread_id`` and
        ``SessionUnavailable`` when the factory fails.
        """
        if self._single is not None:
            return self._single.session
        assert self._table is not None
        resolved = run_config(config)
        thread_id_of(resolved)  # a clear MissingThreadId, also outside a run
        return self._table.get(resolved or {}).session

    @property
    def threads(self) -> list[str]:
        """With a factory: the ``thread_id``s that hold an open session, least recently used first."""
        return self._table.threads() if self._table is not None else []

    def source_for_tool(self, name: str) -> str:
        """The source label a tool's output is admitted with: ``tool_sources[name]`` or ``tool:<name>``."""
        return self._settings.source_for_tool(name)

    def close(self) -> None:
        """End the sessions this middleware opened (a session you passed in stays yours)."""
        if self._table is not None:
            self._table.close()
        elif self._owns_session and self._single is not None:
            self._single.session.close()

    @contextmanager
    def _conversation(self, config: RunnableConfig | None = None) -> Iterator[_Conversation]:
        """The guard of the run's conversation, held (not evicted-and-closed) while a hook runs."""
        if self._single is not None:
            yield self._single
            return
        assert self._table is not None
        with self._table.acquire(run_config(config)) as conversation:
            yield conversation

    # ---- hooks: find the conversation, let its guard do the work -------------------------------------
    def wrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], ModelResponse[Any]],
    ) -> ModelResult:
        with ExitStack() as held:
            try:
                conversation = held.enter_context(self._conversation())
            except SessionUnavailable as exc:  # fail closed: no session, no model call
                return _no_session(exc)
            return conversation.wrap_model_call(request, handler)
        raise AssertionError("unreachable")  # pragma: no cover - ExitStack does not swallow

    async def awrap_model_call(
        self,
        request: ModelRequest[Any],
        handler: Callable[[ModelRequest[Any]], Awaitable[ModelResponse[Any]]],
    ) -> ModelResult:
        with ExitStack() as held:
            try:
                conversation = held.enter_context(self._conversation())
            except SessionUnavailable as exc:
                return _no_session(exc)
            return await conversation.awrap_model_call(request, handler)
        raise AssertionError("unreachable")  # pragma: no cover

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolResult],
    ) -> ToolResult:
        with ExitStack() as held:
            try:
                conversation = held.enter_context(self._conversation(_tool_config(request)))
            except SessionUnavailable as exc:  # fail closed: no session, the tool does not run
                return _no_session_for_tool(request.tool_call, exc)
            return conversation.wrap_tool_call(request, handler)
        raise AssertionError("unreachable")  # pragma: no cover

    async def awrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], Awaitable[ToolResult]],
    ) -> ToolResult:
        with ExitStack() as held:
            try:
                conversation = held.enter_context(self._conversation(_tool_config(request)))
            except SessionUnavailable as exc:
                return _no_session_for_tool(request.tool_call, exc)
            return await conversation.awrap_tool_call(request, handler)
        raise AssertionError("unreachable")  # pragma: no cover


# ---- approvals through a LangGraph interrupt ---------------------------------------------------------
def approval_request(call: Mapping[str, Any], decision: Decision) -> dict[str, Any]:
    """The interrupt value for a call that needs approval (``ctxguard.approvals.approval_request``).
    LangGraph keeps its ``args`` in the checkpoint, where the ``AIMessage`` that made the call already
    holds them."""
    return approvals.approval_request(call["name"], call.get("id"), call.get("args") or {}, decision)


def approval_result(answer: Any, tool: str) -> ApprovalResult | None:
    """An interrupt's resume value as an approver's answer (``ctxguard.approvals.parse_answer``)."""
    return approvals.parse_answer(answer, tool)


# ---- helpers ---------------------------------------------------------------------------------------
def _tool_name(tool_call_id: str, history: Sequence[BaseMessage]) -> str:
    for msg in reversed(history):
        if isinstance(msg, AIMessage):
            for tc in msg.tool_calls:
                if tc.get("id") == tool_call_id:
                    return tc["name"]
    return "unknown"


def _result_texts(result: ToolOutput) -> list[str]:
    """Every text of a tool's result, in the order ``_admit_result`` puts them back."""
    if isinstance(result, list):
        return [t for item in result for t in _result_texts(item)]
    if isinstance(result, ToolMessage):
        return _messages.texts(result)
    if isinstance(result, Command) and isinstance(result.update, dict):
        msgs = result.update.get("messages")
        if isinstance(msgs, list):
            return [t for m in msgs if isinstance(m, BaseMessage) for t in _messages.texts(m)]
    return []


def _plain(value: Any) -> Any:
    """Decision arguments (read-only mappings) as the plain dicts and lists a tool validates."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_plain(v) for v in value)
    return value


def _is_final(msg: BaseMessage) -> bool:
    # create_agent ends the run on an AIMessage without (valid) tool calls: invalid ones run nothing,
    # so a message carrying only those is the answer the user sees and is checked as one.
    return isinstance(msg, AIMessage) and not msg.tool_calls


def _model_response(response: ModelResult) -> ModelResponse[Any]:
    if isinstance(response, ExtendedModelResponse):
        return response.model_response
    if isinstance(response, AIMessage):
        return ModelResponse(result=[response])
    return response


_KEEP: Any = object()


def _replace_result(response: ModelResult, result: list[BaseMessage], structured_response: Any = _KEEP) -> ModelResult:
    inner = _model_response(response)
    structured = inner.structured_response if structured_response is _KEEP else structured_response
    new = ModelResponse(result=result, structured_response=structured)
    if isinstance(response, ExtendedModelResponse):
        return ExtendedModelResponse(model_response=new, command=response.command)
    return new


def _structured_text(value: Any) -> str:
    """A structured response (a pydantic model, a dataclass, a dict) as the JSON text a user would read."""
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    return json.dumps(value, ensure_ascii=False, default=str)


def _refused(msg: BaseMessage, reason: str) -> BaseMessage:
    """A refused answer: a short notice, and none of the model's other texts (invalid calls, raw extras)."""
    update: dict[str, Any] = {"content": refusal("answer", reason), "additional_kwargs": {}}
    if isinstance(msg, AIMessage):
        update["invalid_tool_calls"] = []
    return msg.model_copy(update=update)


def _no_session(exc: SessionUnavailable) -> AIMessage:
    return AIMessage(content=f"{exc} (no session for this conversation); the model was not called.")


def _no_session_for_tool(call: Mapping[str, Any], exc: SessionUnavailable) -> ToolMessage:
    # Not registered in any admission cache: there is no session to register it with.
    return ToolMessage(content=refusal("call", f"{exc} (no session for this conversation)"),
                       tool_call_id=call.get("id") or "", name=call.get("name"), status="error")


def _tool_config(request: ToolCallRequest) -> RunnableConfig | None:
    """The tool call's run config: the ``ToolRuntime``'s when LangGraph gave one, else the context's."""
    runtime = getattr(request, "runtime", None)
    config = getattr(runtime, "config", None)
    return cast("RunnableConfig", config) if isinstance(config, Mapping) else None


def _not_called(exc: Exception) -> AIMessage:
    return AIMessage(content=f"ctxguard could not check the conversation (check failed: {type(exc).__name__}); "
                             "the model was not called.")


__all__ = ["DERIVED", "CtxGuardMiddleware", "MissingThreadId", "SessionFactory", "SessionUnavailable",
           "aguarded_stream", "approval_request", "approval_result", "guarded_stream"]
