"""Phrases and syntax that have no business inside data: overrides, fake turns, chat-template tokens,
tool-call syntax, role-play framing.

Each is a named RE2 pattern with a fixed score, a table rather than code, so adding one is one row.
Scores above 0.5 (the policy's default threshold) are for forms that benign text practically never
takes; the benchmark's negatives (NotInject's trigger-word prompts, real e-mails, StackOverflow
answers) keep them honest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..._patterns import compile_linear


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    pattern: Any
    score: float


def _sig(name: str, pattern: str, score: float, *, ignore_case: bool = True) -> Signature:
    return Signature(name, compile_linear(pattern, ignore_case=ignore_case), score)


# Verbs of tools that act for someone (not read_/get_/set_, which every codebase is full of).
_TOOL_VERB_PREFIX = r"(?:send|transfer|forward|email|mail|grant|share|upload|pay|unlock|wire|withdraw|deposit|invoke)"

SIGNATURES: tuple[Signature, ...] = (
    _sig("override", r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|"
         r"all|any|your)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules|directions|guidelines)\b", 0.95),
    _sig("new_instructions", r"\b(?:new|updated|real|actual)\s+(?:instructions?|task|orders)\s*:", 0.8),
    _sig("follow_instruction", r"\b(?:strictly\s+)?(?:adhere\s+to|follow|obey|execute)\s+(?:the|these)\s+"
         r"(?:following|below|new)\s+(?:instructions?|commands?|orders)\b", 0.7),
    # A conversation turn opening a line: "System:", "### Assistant:", "[USER]", "<system>".
    _sig("fake_turn", r"(?:^|\n)[ \t]*(?:#{1,3}[ \t]*)?(?:system|assistant|developer)[ \t]*(?:message|prompt)?"
         r"[ \t]*:", 0.7),
    _sig("fake_turn", r"(?:^|\n)[ \t]*(?:#{1,3}[ \t]*)?(?:user|human|tool|function)[ \t]*(?:message|output)?[ \t]*:"
         r"[^\n]{0,200}\n[ \t]*(?:#{1,3}[ \t]*)?(?:assistant|ai|system)[ \t]*:", 0.8),
    _sig("fake_turn", r"\[/?(?:SYSTEM|ASSISTANT|USER|TOOL)\]|</?(?:system|assistant|user|tool)(?:_message)?>",
         0.85, ignore_case=False),
    _sig("template_token", r"<\|(?:im_start|im_end|system|user|assistant|endoftext|eot_id|start_header_id|"
         r"end_header_id|tool_call|python_tag)\|>|\[/?INST\]|<</?SYS>>|<start_of_turn>|<end_of_turn>", 0.95),
    # Tool-call syntax inside data: the shapes models are trained to emit when they call a tool.
    _sig("tool_call_syntax", r"</?(?:tool_call|tool_use|function_call|function_calls|invoke|tool_code)\b[^>]{0,80}>|"
         r"<function=[\w.-]{1,80}>", 0.85),
    _sig("tool_call_syntax", r"[{,]\s*[\"'](?:tool|tool_name|function|function_call|tool_calls|recipient_name)[\"']"
         r"\s*:\s*[\[{\"']", 0.6),
    _sig("tool_call_syntax", r"\b" + _TOOL_VERB_PREFIX + r"_[a-z][a-z0-9_]{1,40}\s*\(\s*(?:[a-z_]{1,30}\s*=|[\"'])",
         0.6),
    _sig("addressed_to_ai", r"\b(?:AI|assistant|agent|model|chatbot|LLM)\b[^.\n]{0,30}?\b(?:must|should|need to|"
         r"are required to|please)\b[^.\n]{0,60}?\b(?:send|forward|email|transfer|delete|execute|run|call|"
         r"reveal|share|post|upload)\b", 0.75),
    _sig("addressed_to_ai", r"(?:^|[.!?\n]\s*)(?:dear\s+|hey\s+|hi\s+|attention\s+)?(?:AI|assistant|agent|"
         r"AI\s+assistant|language\s+model|LLM|chatbot)\s*[,:!]\s*(?:please\s+|you\s+)", 0.75),
    _sig("role_play", r"\byou are (?:now|no longer)\b|\bact as (?:an?|the) (?:unrestricted|jailbroken|"
         r"developer mode)\b|\bDAN mode\b|\bfrom now on,? you (?:are|will|must)\b", 0.8),
    _sig("urgent_imperative", r"\b(?:IMPORTANT|URGENT|ATTENTION)\s*[!:]{1,5}[^.\n]{0,80}?\b(?:you|assistant)\b", 0.6),
)
