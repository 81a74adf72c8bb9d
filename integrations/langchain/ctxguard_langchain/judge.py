"""A LangChain chat model as ctxguard's judge for tool calls the offline checks leave ambiguous.

``Firewall(judge=chat_model_judge(model))``: the model is asked, with ``ctxguard.judge.prompt_for``,
whether the user's request asks for the call; it sees the request, the tool and the argument names,
never the values (so the injected text cannot argue its own case). Its reply's first word decides
(``yes``/``no``); anything else, or an error, is a no.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from ctxguard.judge import JudgeRequest, prompt_for


def chat_model_judge(model: BaseChatModel) -> Callable[[JudgeRequest], str]:
    def judge(request: JudgeRequest) -> str:
        reply: Any = model.invoke([HumanMessage(content=prompt_for(request))])
        content = getattr(reply, "content", reply)
        return content if isinstance(content, str) else str(content)

    return judge


__all__ = ["chat_model_judge"]
