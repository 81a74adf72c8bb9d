"""Hypothesis strategies for hostile input to the public entry points (shared by the fuzz test and the
fuzz benchmark): any code point including lone surrogates, mixed with the fragments detectors and
decoders key on, so the odd input lands where the parsing is."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

# The policy both fuzzers run under. Pattern detectors only: NER on odd text has its own tests
# (tests/test_pii.py); here the parsing, decoding and provenance paths are what is fuzzed.
FUZZ_POLICY = """
detection:
  pii: {enabled: false}
exfiltration:
  allowed_domains: ["acme.com"]
  canary_tokens: ["CANARY-5e1f0a"]
tools:
  tools:
    send_email: {class: egress}
"""

FRAGMENTS = [
    "![a](", "](", "[r]: ", "<img src=", "srcset=", "url(", "&#104;", "&#x", "&colon;", "\\u00", "\\x4", "%2", "%",
    "=3D", "\u200b", "\u202e", "\U000e0041", "\ufe0f", "\ud800", "\udfff", "https://", "//", "\\@", "@", "mailto:",
    "AKIA", "ghp_", "eyJ", "DE89 3704", "+1 (555) ", "ignore previous instructions", "<|im_start|>", "```",
    "\n\n", "{\"a\": [", "}", "<!--", "-->", "<style>", "<svg>", "\x00", "\r\n", "=" * 3, "0x", "104,116,",
]

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
odd_text = st.lists(st.one_of(st.text(any_char, max_size=12), st.sampled_from(FRAGMENTS)), max_size=24).map("".join)
scalar = st.one_of(odd_text, st.binary(max_size=24), st.integers(), st.floats(allow_nan=True), st.none(),
                   st.booleans())


def _containers(children: Any) -> Any:
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(odd_text, children, max_size=4))


tool_args = st.dictionaries(odd_text, st.recursive(scalar, _containers, max_leaves=8), max_size=5)
sources = st.one_of(st.sampled_from(["user", "tool:web", "retriever:kb", "system", "model:output"]), odd_text)
