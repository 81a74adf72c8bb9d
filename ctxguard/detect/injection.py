"""Prompt-injection signatures for content from untrusted sources.

A first, honest baseline: phrases that address the assistant or try to override its instructions,
fake conversation turns and chat-template tokens. Keyword lists like this miss attacks that are
phrased as ordinary requests (InjecAgent's base attacks contain no "ignore previous"); the
provenance checks on tool calls are what stop those, and this detector only marks what it sees.
All patterns run on RE2, so time is linear in the input whatever it holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .._patterns import compile_linear
from ..decision import Finding


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    pattern: Any
    score: float


def _sig(name: str, pattern: str, score: float) -> Signature:
    return Signature(name, compile_linear(pattern, ignore_case=True), score)


SIGNATURES: tuple[Signature, ...] = (
    _sig("override", r"\b(?:ignore|disregard|forget|override)\b[^.\n]{0,40}?\b(?:previous|prior|above|earlier|"
         r"all|any|your)\b[^.\n]{0,20}?\b(?:instructions?|prompts?|rules|directions|guidelines)\b", 0.95),
    _sig("new_instructions", r"\b(?:new|updated|real|actual)\s+(?:instructions?|task|orders)\s*:", 0.8),
    _sig("fake_turn", r"(?:^|\n)\s*(?:#{1,3}\s*)?(?:system|assistant|developer)\s*(?:message)?\s*:", 0.7),
    _sig("template_token", r"<\|(?:im_start|im_end|system|endoftext|eot_id|start_header_id)\|>|\[/?INST\]", 0.95),
    _sig("addressed_to_ai", r"\b(?:AI|assistant|agent|model|chatbot|LLM)\b[^.\n]{0,30}?\b(?:must|should|need to|"
         r"are required to|please)\b[^.\n]{0,60}?\b(?:send|forward|email|transfer|delete|execute|run|call|"
         r"reveal|share|post|upload)\b", 0.75),
    _sig("role_play", r"\byou are (?:now|no longer)\b|\bact as (?:an?|the) (?:unrestricted|jailbroken|"
         r"developer mode)\b|\bDAN mode\b", 0.8),
    _sig("exfil_instruction", r"\b(?:send|forward|email|post|upload|transfer)\b[^.\n]{0,60}?\b(?:to|at)\s+"
         r"(?:https?://|[\w.+-]{1,64}@[\w-]{1,63}\.)", 0.55),
    _sig("hidden_comment", r"<!--[^>]{0,500}?\b(?:instruction|assistant|ignore|system)\b", 0.7),
    _sig("urgent_imperative", r"\b(?:IMPORTANT|URGENT|ATTENTION)\s*[!:]{1,5}[^.\n]{0,80}?\b(?:you|assistant)\b", 0.6),
)


class InjectionDetector:
    """Signature-based injection detector. A finding per matching span; score of the signature."""

    name = "injection"

    def __init__(self, signatures: tuple[Signature, ...] = SIGNATURES) -> None:
        self.signatures = signatures

    def detect(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        for sig in self.signatures:
            for m in sig.pattern.finditer(text):
                out.append(Finding(detector=f"injection:{sig.name}", kind="injection", start=m.start(),
                                   end=m.end(), score=sig.score))
        return out
