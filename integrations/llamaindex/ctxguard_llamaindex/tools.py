"""Tools whose calls are checked before they run and whose output is admitted before the model reads it.

``GuardedTool`` wraps any LlamaIndex ``BaseTool`` (a ``FunctionTool``, a ``QueryEngineTool``) and
keeps its metadata, so the model sees the same tool. On each call:

1. the arguments go to ``Session.check_tool_call`` first. A blocked call (or one still needing
   approval) returns a ``ToolOutput`` with ``is_error=True`` and the reason, and the function never
   runs; an allowed call runs with the arguments the decision lets through (redacted where the
   policy redacts);
2. the output's text is admitted as ``tool:<name>``: the model gets the decision's text (redacted,
   spotlit as untrusted, marked when it holds an injection); a blocked output becomes an error
   ``ToolOutput`` with the reason. ``raw_output`` is replaced by that text, since agents may show it.

An exception the tool raises is output too: agents put ``str(exception)`` into the model's context
(``FunctionTool`` does not catch, the agent workflow does), where it could carry an injection or a
customer's data past step 2. So its message is admitted like any output and returned as an error
``ToolOutput`` (the exception object is not attached). The one exception that propagates is the
workflow's ``WaitingForEvent``, which pauses a step for human input. Non-text output blocks (images,
audio) are not passed on: ctxguard cannot inspect them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

try:  # workflows >= 2.9: the exception that pauses a step waiting for an event; it must propagate
    from workflows.runtime.types.results import WaitingForEvent as _Propagated
except ImportError:  # pragma: no cover - older workflows
    _Propagated = None  # type: ignore[assignment,misc]

from llama_index.core.tools import BaseTool, FunctionTool, ToolMetadata, ToolOutput
from llama_index.core.tools.types import AsyncBaseTool
from llama_index.core.workflow import Context

from ctxguard import Decision, Session


class GuardedTool(AsyncBaseTool):
    """``tool`` with its calls checked and its output admitted for ``session`` (sync and async)."""

    def __init__(self, tool: BaseTool, session: Session) -> None:
        if not isinstance(tool, BaseTool):
            raise TypeError(f"tool must be a LlamaIndex BaseTool, not {type(tool).__name__}")
        self._tool = tool
        self._session = session
        self._name = tool.metadata.get_name()
        self._params = _parameter_names(tool.metadata)
        self._context_param = tool.ctx_param_name if isinstance(tool, FunctionTool) else None
        # The core's authorisation reads what a tool does from its name, description and arguments.
        session.describe_tools([{"name": self._name, "description": tool.metadata.description or "",
                                 "parameters": self._params}])

    @property
    def metadata(self) -> ToolMetadata:
        return self._tool.metadata

    @property
    def tool(self) -> BaseTool:
        """The wrapped tool (calling it directly bypasses ctxguard)."""
        return self._tool

    # ---- one call ---------------------------------------------------------------------------------
    def _named(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        """The call as name -> value: positional arguments take the schema's parameter names in order."""
        named = {(self._params[i] if i < len(self._params) else f"arg{i}"): v for i, v in enumerate(args)}
        named.update({k: v for k, v in kwargs.items() if not self._is_context(k, v)})
        return named

    def _is_context(self, name: str, value: Any) -> bool:
        """The workflow ``Context`` a FunctionTool takes; any other value under that name is checked."""
        return name == self._context_param and isinstance(value, Context)

    def _as_called(
        self, allowed: Mapping[str, Any], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The checked arguments, back in the shape of the original call (context passed through)."""
        names = list(self._named(args, {}))
        new_args = tuple(allowed.get(n) for n in names)
        new_kwargs = {k: (v if self._is_context(k, v) else allowed.get(k)) for k, v in kwargs.items()}
        return new_args, new_kwargs

    def _refusal(self, decision: Decision, what: str, raw_input: dict[str, Any]) -> ToolOutput:
        return ToolOutput(
            content=decision.refusal(what),  # the sentence every adapter shows
            tool_name=self._name, raw_input=raw_input, raw_output=None, is_error=True,
        )

    def _result(self, output: ToolOutput, decision: Decision, raw_input: dict[str, Any]) -> ToolOutput:
        if not decision.allowed:
            return self._refusal(decision, "tool result", raw_input)
        return ToolOutput(content=decision.text, tool_name=self._name, raw_input=raw_input,
                          raw_output=decision.text, is_error=output.is_error)

    def _failed(self, exc: Exception, raw_input: dict[str, Any]) -> ToolOutput:
        """The tool's exception as an error output, to be admitted like any other (or re-raised)."""
        if _Propagated is not None and isinstance(exc, _Propagated):
            raise exc
        return ToolOutput(content=f"Error: {type(exc).__name__}: {exc}", tool_name=self._name,
                          raw_input=raw_input, raw_output=None, is_error=True)

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        named = self._named(args, kwargs)
        decision = self._session.check_tool_call(self._name, named)
        if not decision.allowed:
            return self._refusal(decision, "call", named)
        new_args, new_kwargs = self._as_called(decision.args or {}, args, kwargs)
        tool = self._tool
        try:
            if isinstance(tool, AsyncBaseTool):
                output = tool.call(*new_args, **new_kwargs)
            else:
                output = tool(*new_args, **new_kwargs)
        except Exception as exc:
            output = self._failed(exc, named)
        return self._result(output, self._session.admit(output.content, f"tool:{self._name}"), named)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        named = self._named(args, kwargs)
        decision = await self._session.acheck_tool_call(self._name, named)
        if not decision.allowed:
            return self._refusal(decision, "call", named)
        new_args, new_kwargs = self._as_called(decision.args or {}, args, kwargs)
        tool = self._tool
        try:
            if isinstance(tool, AsyncBaseTool):
                output = await tool.acall(*new_args, **new_kwargs)
            else:
                output = await asyncio.to_thread(tool, *new_args, **new_kwargs)
        except Exception as exc:
            output = self._failed(exc, named)
        return self._result(output, await self._session.aadmit(output.content, f"tool:{self._name}"), named)

    def __repr__(self) -> str:
        return f"GuardedTool({self._name!r}, session={self._session.id!r})"


def guard_tool(tool: BaseTool, session: Session) -> GuardedTool:
    """``tool`` checked before it runs and admitted after, for ``session``."""
    return GuardedTool(tool, session)


def guard_tools(tools: Sequence[BaseTool], session: Session) -> list[GuardedTool]:
    return [GuardedTool(t, session) for t in tools]


def _parameter_names(metadata: ToolMetadata) -> list[str]:
    try:
        props = metadata.get_parameters_dict().get("properties", {})
    except Exception:  # a schema that cannot be rendered: positional arguments get generic names
        return []
    return [str(k) for k in props]
