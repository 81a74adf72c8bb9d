"""A scripted LlamaIndex LLM for tests and offline examples: it answers what it was told to, and keeps
the prompts it was given, so a test can see both what reached the model and what left it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.base.llms.types import CompletionResponse, CompletionResponseGen, LLMMetadata
from llama_index.core.llms.callbacks import llm_completion_callback
from llama_index.core.llms.custom import CustomLLM
from pydantic import PrivateAttr


class ScriptedLLM(CustomLLM):
    """Answers with ``answers`` in turn (the last one repeats); streams them in ``chunk``-sized pieces."""

    answers: list[str]
    chunk: int = 7
    _prompts: list[str] = PrivateAttr(default_factory=list)

    def __init__(self, answers: Sequence[str], *, chunk: int = 7, **kwargs: Any) -> None:
        if not answers:
            raise ValueError("ScriptedLLM needs at least one answer")
        super().__init__(answers=list(answers), chunk=chunk, **kwargs)

    @classmethod
    def class_name(cls) -> str:
        return "ScriptedLLM"

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted")

    @property
    def prompts(self) -> list[str]:
        """Every prompt the model was given, in order."""
        return list(self._prompts)

    def _next(self, prompt: str) -> str:
        self._prompts.append(prompt)
        return self.answers[min(len(self._prompts), len(self.answers)) - 1]

    @llm_completion_callback()
    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        return CompletionResponse(text=self._next(prompt))

    @llm_completion_callback()
    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponseGen:
        answer = self._next(prompt)

        def gen() -> CompletionResponseGen:
            text = ""
            for i in range(0, len(answer), self.chunk):
                delta = answer[i:i + self.chunk]
                text += delta
                yield CompletionResponse(text=text, delta=delta)

        return gen()


__all__ = ["ScriptedLLM"]
