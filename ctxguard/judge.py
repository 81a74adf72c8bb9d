"""An optional judge for tool calls the offline checks leave ambiguous.

The offline authorisation (``ctxguard.flow.support.authorise``) is sure of most calls: the request
asks for the action or it does not. Some it cannot settle: a requested action whose destination came
from content the request did not clearly point to, a tool whose action no name, description or
argument reveals, a request that delegates when the policy says ``delegation: judge``. For those a
judge (any callable: the agent's own chat model behind a prompt, a rules engine, a person) answers
yes or no. It sees the request, the tool and the argument *names*, never the argument values, so a
judge that is a model cannot be steered by the injected text itself. An error, a timeout or an answer
that is not a yes is a no (fail closed), and the audit log records which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class JudgeRequest:
    request: tuple[str, ...]      # the user's and system's own words
    tool: str
    argument_names: tuple[str, ...]
    reason: str                   # why the offline check is unsure: "destination:to", "unknown_action", ...


Judge = Callable[[JudgeRequest], object]

_YES = frozenset({"yes", "y", "true", "allow", "allowed", "approve", "approved", "supported", "ok"})


def judge_says_yes(judge: Judge, request: JudgeRequest) -> tuple[bool, str]:
    """(answer, note for the audit). True and the strings in ``_YES`` (first word, any case) are a yes."""
    try:
        answer = judge(request)
    except Exception as exc:  # any judge failure is a no
        return False, f"judge failed ({type(exc).__name__}): treated as no"
    if answer is True:
        return True, "judge: yes"
    if isinstance(answer, str):
        words = answer.strip().lower().split()
        first = words[0].strip(".,:;!\"'") if words else ""
        return (first in _YES), f"judge: {'yes' if first in _YES else 'no'}"
    return False, "judge: no"


def prompt_for(request: JudgeRequest) -> str:
    """A prompt for a chat-model judge: asks for YES or NO and shows no argument values."""
    lines: Sequence[str] = (
        "You check whether an AI agent's tool call is what its user asked for.",
        "User's request:", *(f"  {t}" for t in request.request),
        f"Tool the agent wants to call: {request.tool} (arguments: {', '.join(request.argument_names) or 'none'})",
        f"Why this is unclear: {request.reason}",
        "Answer YES if the user's request asks for this call, NO otherwise. Answer with one word.",
    )
    return "\n".join(lines)
