"""Callback handlers: ctxguard's checks on every model call, tool call and retrieval of a LangChain run.

A LangChain callback *observes* a run: it is told what is about to be sent to a model, which tool is
about to run with which arguments, what came back. It cannot change any of it. So these handlers can
enforce a policy in one way only, by raising: with ``raise_error = True`` LangChain re-raises an
exception from a handler and the run stops there. Every ``block`` decision therefore becomes a
``ctxguard.Blocked`` raised out of ``invoke``; every ``redact`` decision (a pseudonymised e-mail
address, a spotlit tool output) is recorded in ``handler.decisions`` but not applied, because the
model has already been handed the original. Rewriting needs a hook that owns the content:
``CtxGuardMiddleware`` for ``create_agent`` and ``GuardedRetriever`` for retrieval.

The one exception is a tool call: when the policy would pass a call only with rewritten arguments
(an SSN redacted, an approver's edit), the tool would otherwise run with the original ones, which is
an action in the world, so the handler stops the run with ``RewriteNotApplied`` (a ``Blocked``).

Where each event goes in the core:

    on_chat_model_start / on_llm_start   admit each message by its role (ctxguard.history): human
                                         text as ``user``, system as ``system``, tool messages as
                                         ``tool:<name>``, the model's own turns (and their tool-call
                                         arguments) as derived content; each once per content
    on_llm_end                           check_output on the text; check_tool_call on each tool call
    on_tool_start                        check_tool_call (fires before the tool body runs)
    on_tool_end                          admit the output as ``tool:<name>``
    on_retriever_end                     admit each document on its signed label, else ``retriever:<name>``
"""

from __future__ import annotations

import asyncio
import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, ParamSpec, TypeVar
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler, BaseCallbackHandler
from langchain_core.documents import Document
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from ctxguard import Action, Blocked, CtxGuardError, Decision, Session
from ctxguard.history import source_for_role
from ctxguard.retrieval import label_claim

from . import _messages
from ._messages import content_texts

# A retriever run carrying this tag has been checked by a GuardedRetriever (it and the retriever it
# wraps): the handler leaves its documents alone instead of admitting them a second time.
GUARDED_TAG = "ctxguard:guarded"

OnRewrite = Literal["record", "raise"]


class RewriteNotApplied(Blocked):
    """The policy passes this content or call only rewritten, and a callback cannot rewrite.

    Raised for tool calls whose arguments the decision changed (redacted values, an approver's
    edit), and for model input and output when the handler was built with ``on_rewrite="raise"``.
    ``decision`` is the firewall's decision as it was made (action ``redact`` or ``allow``).
    """

    def __init__(self, decision: Decision, what: str) -> None:
        self.decision = decision
        CtxGuardError.__init__(
            self,
            f"ctxguard would pass this {what} only rewritten ({decision.reason}); a callback cannot rewrite, "
            "so the run stops. CtxGuardMiddleware or GuardedRetriever rewrite instead.",
        )


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _fail_closed(event: Callable[_P, _R]) -> Callable[_P, _R]:
    """Any failure while checking an event stops the run as a ``CtxGuardError`` that names only its type.

    LangChain swallows a ``NotImplementedError`` from a handler even with ``raise_error`` (it logs it and
    the tool runs), and logs the ``repr`` of any other exception, whose message may quote content.
    """

    @functools.wraps(event)
    def checked(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        try:
            return event(*args, **kwargs)
        except CtxGuardError:
            raise
        except Exception as exc:
            raise CtxGuardError(f"ctxguard check failed: {type(exc).__name__}; the run stops") from None

    return checked


@dataclass(frozen=True, slots=True)
class _CheckedCall:
    tool: str
    args: dict[str, Any]
    decision: Decision


def message_text(message: BaseMessage) -> str:
    """The text parts of a message: a string, or every text in its blocks (nested ones too: a tool's
    ``json`` or ``search_result`` block); images and other media blocks are skipped."""
    return "\n".join(content_texts(message.content))


def output_text(output: Any) -> str:
    """A tool's output as the text the model will read."""
    if isinstance(output, BaseMessage):
        return message_text(output)
    if isinstance(output, str):
        return str(output)
    if isinstance(output, Document):
        return output.page_content
    try:
        return json.dumps(output, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(output)


def message_source(message: BaseMessage) -> str:
    """The ctxguard source of a message in the history (``ctxguard.history.source_for_role``): the
    model's own turns are ``model:history``, admitted as derived content, as the middleware does."""
    name = (message.name or "unknown") if isinstance(message, ToolMessage) else ""
    return source_for_role(_messages.role(message), name=name)


class _GuardCore:
    """What both handlers do, synchronously; the async handler runs it off the event loop."""

    def __init__(self, session: Session, on_rewrite: OnRewrite) -> None:
        if on_rewrite not in ("record", "raise"):
            raise ValueError(f"on_rewrite must be 'record' or 'raise', not {on_rewrite!r}")
        self.session = session
        self.on_rewrite = on_rewrite
        self.decisions: list[Decision] = []
        self._lock = threading.Lock()
        # tool_call_id -> the check made when the model produced the call, reused when the tool
        # starts with the same arguments (an approver is asked once, not twice).
        self._calls: dict[str, _CheckedCall] = {}
        self._tool_runs: dict[UUID, str] = {}
        self._retriever_runs: dict[UUID, tuple[str, bool]] = {}

    # ---- bookkeeping -------------------------------------------------------------------------------
    def _keep(self, decision: Decision) -> Decision:
        with self._lock:
            self.decisions.append(decision)
        return decision

    def _admit(self, text: str, source: str, metadata: Mapping[str, Any] | None = None) -> Decision | None:
        if not text.strip():
            return None
        # Each message version enters the session once (ctxguard.history): a chat model is started
        # once per agent step with the whole history.
        history = self.session.history
        seen = history.seen(text, source, metadata)
        if seen is None:
            seen = self._keep(history.admit(text, source, metadata=metadata))
        self._enforce(seen, f"content from {source}")
        return seen

    def _enforce(self, decision: Decision, what: str) -> None:
        if not decision.allowed:  # block, or an approval that was not given
            raise Blocked(decision)
        if self.on_rewrite == "raise" and decision.enforced and decision.action is Action.REDACT:
            raise RewriteNotApplied(decision, what)

    def _enforce_call(self, call: _CheckedCall) -> None:
        decision = call.decision
        if not decision.allowed:
            raise Blocked(decision)
        if decision.args is not None and dict(decision.args) != call.args:
            raise RewriteNotApplied(decision, f"call to {call.tool}")

    # ---- events ------------------------------------------------------------------------------------
    @_fail_closed
    def chat_model_start(self, messages: Sequence[Sequence[BaseMessage]]) -> None:
        for batch in messages:
            for message in batch:
                source = message_source(message)
                for text in _messages.texts(message):  # content, and an AIMessage's tool-call arguments
                    self._admit(text, source)

    @_fail_closed
    def llm_start(self, prompts: Sequence[str]) -> None:
        for prompt in prompts:
            self._admit(str(prompt), "user")

    @_fail_closed
    def llm_end(self, response: LLMResult) -> None:
        for generations in response.generations:
            for generation in generations:
                message = generation.message if isinstance(generation, ChatGeneration) else None
                # Calls first: a call the policy refuses stops the run before any tool of this step runs,
                # including the ones LangGraph would have started in parallel with it.
                if isinstance(message, AIMessage):
                    for tc in message.tool_calls:
                        args = dict(tc["args"])
                        decision = self._keep(self.session.check_tool_call(tc["name"], args))
                        call = _CheckedCall(tc["name"], args, decision)
                        if tc.get("id"):
                            with self._lock:
                                self._calls[str(tc["id"])] = call
                        self._enforce_call(call)
                text = str(generation.text)  # LangChain's TextAccessor is a str subclass spaCy refuses
                if text.strip():
                    self._enforce(self._keep(self.session.check_output(text)), "answer")

    @_fail_closed
    def tool_start(self, serialized: Mapping[str, Any] | None, input_str: str, run_id: UUID,
                   inputs: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> None:
        tool = str((serialized or {}).get("name") or kwargs.get("name") or "unknown")
        args = dict(inputs) if inputs is not None else {"input": input_str}
        with self._lock:
            self._tool_runs[run_id] = tool
            checked = self._calls.pop(str(kwargs.get("tool_call_id") or ""), None)
        if checked is None or checked.tool != tool or checked.args != args:
            # Not seen in a model's answer (a tool called from a chain), or changed since: check now.
            checked = _CheckedCall(tool, args, self._keep(self.session.check_tool_call(tool, args)))
        self._enforce_call(checked)

    @_fail_closed
    def tool_end(self, output: Any, run_id: UUID, kwargs: Mapping[str, Any]) -> None:
        with self._lock:
            tool = self._tool_runs.pop(run_id, None)
        tool = tool or str(kwargs.get("name") or "unknown")
        self._admit(output_text(output), source_for_role("tool", name=tool))

    def retriever_start(self, name: str, run_id: UUID, tags: Sequence[str] | None) -> None:
        with self._lock:
            self._retriever_runs[run_id] = (name, GUARDED_TAG in (tags or ()))

    @_fail_closed
    def retriever_end(self, documents: Sequence[Document], run_id: UUID) -> None:
        with self._lock:
            name, guarded = self._retriever_runs.pop(run_id, ("retriever", False))
        if guarded:
            return  # a GuardedRetriever admitted (or dropped) these itself
        source = f"retriever:{name}"
        for doc in documents:
            # A claimed label is verified (a forged one fails closed); an unlabelled document from a
            # retriever ctxguard does not scope is labelled by its source (ctxguard.retrieval.label_claim).
            self._admit(str(doc.page_content), source, label_claim(doc.metadata, require_label=False))


class _HandlerBase:
    """The inspection surface shared by both handlers."""

    _core: _GuardCore

    @property
    def session(self) -> Session:
        return self._core.session

    @property
    def decisions(self) -> list[Decision]:
        """Every decision this handler obtained, in order (admissions, tool calls, outputs)."""
        return self._core.decisions


def _retriever_name(serialized: Mapping[str, Any] | None, kwargs: Mapping[str, Any]) -> str:
    return str(kwargs.get("name") or (serialized or {}).get("name") or "retriever")


class CtxGuardCallbackHandler(_HandlerBase, BaseCallbackHandler):
    """Checks a LangChain run against a ctxguard session; stops the run on a block.

    Pass it in the run's config: ``chain.invoke(x, config={"callbacks": [handler]})`` (LCEL chains,
    ``create_agent`` graphs, tools and retrievers alike). A blocked message, tool call, tool output,
    document or answer raises ``ctxguard.Blocked`` out of ``invoke``; tool calls are checked in
    ``on_tool_start``, which LangChain calls before the tool's body, so a blocked tool never runs.

    Callbacks cannot rewrite content, so redactions are *recorded* (``handler.decisions``), not
    applied: the model sees the original text. ``on_rewrite="raise"`` stops the run instead whenever
    the policy would rewrite model input or output. A tool call the policy passes only with rewritten
    arguments always stops the run (``RewriteNotApplied``). To rewrite rather than stop, use
    ``CtxGuardMiddleware`` (agents) and ``GuardedRetriever`` (retrieval).

    Known limit: a prompt template that pastes retrieved or tool text into a human message makes that
    text look like the user's words here; it is still traced to its own, lower-trust admission when
    it reaches a tool argument, because provenance takes the lowest trust of every matching segment.
    """

    raise_error: bool = True  # without it LangChain logs the Blocked and carries on
    run_inline: bool = True  # checked in order, before the model or tool the event announces

    def __init__(self, session: Session, *, on_rewrite: OnRewrite = "record") -> None:
        super().__init__()
        self._core = _GuardCore(session, on_rewrite)

    def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.chat_model_start(messages)

    def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.llm_start(prompts)

    def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.llm_end(response)

    def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.tool_start(serialized, input_str, run_id, inputs, kwargs)

    def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.tool_end(output, run_id, kwargs)

    def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.retriever_start(_retriever_name(serialized, kwargs), run_id, tags)

    def on_retriever_end(
        self,
        documents: Sequence[Document],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.retriever_end(documents, run_id)


class AsyncCtxGuardCallbackHandler(_HandlerBase, AsyncCallbackHandler):
    """The async twin of ``CtxGuardCallbackHandler``, for ``ainvoke`` / ``astream``: same checks, same limits.

    The checks (Presidio, spaCy) run in a worker thread so the event loop keeps serving other runs.
    Use it only with async runs: LangChain swallows errors of an async handler driven by a sync
    ``invoke`` (it runs the coroutine on a side loop and logs the exception), so under ``invoke`` it
    could not stop anything. ``CtxGuardCallbackHandler`` works under both.
    """

    raise_error: bool = True
    run_inline: bool = True

    def __init__(self, session: Session, *, on_rewrite: OnRewrite = "record") -> None:
        super().__init__()
        self._core = _GuardCore(session, on_rewrite)

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        await asyncio.to_thread(self._core.chat_model_start, messages)

    async def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        await asyncio.to_thread(self._core.llm_start, prompts)

    async def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        await asyncio.to_thread(self._core.llm_end, response)

    async def on_tool_start(
        self,
        serialized: dict[str, Any],
        input_str: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        inputs: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        await asyncio.to_thread(self._core.tool_start, serialized, input_str, run_id, inputs, kwargs)

    async def on_tool_end(
        self,
        output: Any,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        await asyncio.to_thread(self._core.tool_end, output, run_id, kwargs)

    async def on_retriever_start(
        self,
        serialized: dict[str, Any],
        query: str,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        self._core.retriever_start(_retriever_name(serialized, kwargs), run_id, tags)

    async def on_retriever_end(
        self,
        documents: Sequence[Document],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        **kwargs: Any,
    ) -> None:
        await asyncio.to_thread(self._core.retriever_end, documents, run_id)
