"""Where the text sits inside LangChain messages, and how to rewrite it without touching the rest.

A message carries text in more places than ``.content``: a list of content blocks (text beside
images), the arguments of the tool calls in an ``AIMessage`` (and provider-native copies of them
in ``tool_use`` blocks and ``additional_kwargs``), the raw argument string of an invalid tool call.
``rewrite`` walks all of them in one fixed order with a ``str -> str`` function and returns a copy,
so the same walk first collects the texts to check and then puts the checked texts back; the
caller's message objects are never mutated, and non-text blocks come back as they were.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, ChatMessage, ToolMessage

from ctxguard.pipeline.arguments import rewrite_strings

Rewrite = Callable[[str], str]

# Content-block types whose "text" is prose. Any other block with a string ``text`` field is treated
# as text too (LangChain v1's ``text-plain``, which providers send as a document; a provider's own
# text block type): a ``text`` field is sent to the model whatever the block's type. Blocks without
# one (image, audio, file, reasoning signatures) are kept as they are.
TEXT_BLOCK_TYPES = frozenset({"text", "input_text", "output_text", "text-plain"})
# Provider-native blocks that repeat a tool call's arguments next to ``AIMessage.tool_calls``.
TOOL_BLOCK_TYPES = frozenset({"tool_use", "tool_call", "function_call"})


def rewrite(message: BaseMessage, fn: Rewrite) -> BaseMessage:
    """A copy of ``message`` with every text passed through ``fn`` (in a fixed order)."""
    update: dict[str, Any] = {"content": _rewrite_content(message.content, fn)}
    if isinstance(message, AIMessage) and (message.tool_calls or message.invalid_tool_calls):
        calls = [{**tc, "args": rewrite_strings(tc.get("args") or {}, fn)} for tc in message.tool_calls]
        update["tool_calls"] = calls
        update["invalid_tool_calls"] = [{**tc, "args": _rewrite_raw(tc.get("args"), fn)}
                                        for tc in message.invalid_tool_calls]
        # Providers may serialise a message from these raw copies instead of ``tool_calls``; LangChain
        # rebuilds them from ``tool_calls``, so dropping them loses nothing and leaks nothing.
        kwargs = {k: v for k, v in message.additional_kwargs.items() if k not in ("tool_calls", "function_call")}
        update["additional_kwargs"] = kwargs
        by_id = {tc.get("id"): tc["args"] for tc in calls if tc.get("id")}
        if isinstance(update["content"], list):
            update["content"] = [_tool_block(b, by_id) for b in update["content"]]
    elif isinstance(message, AIMessage) and isinstance(message.additional_kwargs.get("function_call"), Mapping):
        # A legacy function call has no ``tool_calls`` twin, and providers send it as it is: its raw
        # argument string is text like any other.
        legacy = dict(message.additional_kwargs["function_call"])
        legacy["arguments"] = _rewrite_raw(legacy.get("arguments"), fn)
        update["additional_kwargs"] = {**message.additional_kwargs, "function_call": legacy}
    return message.model_copy(update=update)


def _collected(walk: Callable[[Rewrite], object]) -> list[str]:
    """The non-empty texts a rewriting walk passes to its function, in its order."""
    found: list[str] = []

    def collect(text: str) -> str:
        if text:
            found.append(text)
        return text

    walk(collect)
    return found


def texts(message: BaseMessage) -> list[str]:
    """The non-empty texts ``rewrite`` would pass to its function, in its order."""
    return _collected(lambda fn: rewrite(message, fn))


def reasoning_texts(message: BaseMessage) -> list[str]:
    """The reasoning a message shows beside its text: LangChain's ``reasoning`` and Anthropic's ``thinking`` blocks."""
    if isinstance(message.content, str):
        return []
    found = []
    for block in message.content:
        if isinstance(block, dict):
            field = {"reasoning": "reasoning", "thinking": "thinking"}.get(str(block.get("type")))
            text = block.get(field) if field else None
            if isinstance(text, str) and text:
                found.append(text)
    return found


def substitute(message: BaseMessage, replacements: list[str]) -> BaseMessage:
    """``message`` with its non-empty texts replaced, in ``texts`` order, by ``replacements``."""
    pending = iter(replacements)

    def put(text: str) -> str:
        return next(pending) if text else text

    out = rewrite(message, put)
    if next(pending, None) is not None:
        raise ValueError("more replacements than texts in the message")
    return out


def content_texts(content: str | list[str | dict[Any, Any]]) -> list[str]:
    """Every non-empty text of a content value, nested block texts included, in ``rewrite`` order."""
    return _collected(lambda fn: _rewrite_content(content, fn))


def content_text(content: str | list[str | dict[Any, Any]]) -> str:
    """The text of a content value, block texts joined by newlines."""
    if isinstance(content, str):
        return content
    parts = [b if isinstance(b, str) else str(b["text"]) for b in content if isinstance(b, str) or _is_text_block(b)]
    return "\n".join(p for p in parts if p)


def role(message: BaseMessage) -> str:
    """The message's role in ctxguard's role map (``ctxguard.history.source_for_role``)."""
    if isinstance(message, ChatMessage):
        return message.role
    return message.type  # "human", "ai", "system", "tool", "function"


def key(message: BaseMessage) -> str:
    """Identity of one message version: its id (a tool result's call id) and a hash of what it says.

    A tool result is keyed by its ``tool_call_id``: LangGraph gives it a message id only after the
    tool node returns, and the middleware registers the result it wrote before that.
    """
    ident = message.tool_call_id if isinstance(message, ToolMessage) else (message.id or "")
    body: dict[str, Any] = {"type": message.type, "id": ident, "content": message.content}
    if isinstance(message, AIMessage):
        body["tool_calls"] = [[tc.get("id"), tc["name"], tc.get("args")] for tc in message.tool_calls]
        body["invalid_tool_calls"] = [[tc.get("id"), tc.get("args")] for tc in message.invalid_tool_calls]
    raw = json.dumps(body, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _rewrite_raw(args: str | None, fn: Rewrite) -> str | None:
    return fn(args) if isinstance(args, str) else args


def _rewrite_content(content: str | list[str | dict[Any, Any]], fn: Rewrite) -> str | list[str | dict[Any, Any]]:
    if isinstance(content, str):
        return fn(content)
    out: list[str | dict[Any, Any]] = []
    for block in content:
        if isinstance(block, str):
            out.append(fn(block))
        elif _is_text_block(block):
            out.append({**block, "text": fn(block["text"])})
        elif isinstance(block, dict) and block.get("type") not in TOOL_BLOCK_TYPES:
            out.append(_rewrite_nested(block, fn))
        else:
            out.append(block)
    return out


def _rewrite_nested(block: dict[Any, Any], fn: Rewrite) -> dict[Any, Any]:
    """A block carrying text below its top level (the shapes ToolNode keeps as a tool's result).

    ``search_result`` and ``document`` blocks hold a ``content`` list of text blocks and a ``title``;
    a ``json`` block any JSON value; ``custom_tool_call_output`` an ``output`` string. Media fields
    (``base64``, ``url``, ``mime_type``) are left alone.
    """
    out = dict(block)
    if isinstance(out.get("title"), str):
        out["title"] = fn(out["title"])
    if isinstance(out.get("content"), str | list):
        out["content"] = _rewrite_content(out["content"], fn)
    if "json" in out:
        out["json"] = rewrite_strings(out["json"], fn)
    if isinstance(out.get("output"), str):
        out["output"] = fn(out["output"])
    return out


def _is_text_block(block: object) -> bool:
    """A block carrying text the model reads: a string ``text`` field in anything but a tool block."""
    return (isinstance(block, dict) and isinstance(block.get("text"), str)
            and block.get("type") not in TOOL_BLOCK_TYPES)


def _tool_block(block: str | dict[Any, Any], args_by_id: dict[Any, Any]) -> str | dict[Any, Any]:
    """A provider-native tool block carrying the same (rewritten) arguments as its tool call.

    A block without a matching tool call cannot be rewritten safely, so its arguments are dropped
    rather than passed on unchecked.
    """
    if not isinstance(block, dict) or block.get("type") not in TOOL_BLOCK_TYPES:
        return block
    args = args_by_id.get(block.get("id") or block.get("call_id"), {})
    out = dict(block)
    for field in ("input", "args", "arguments"):
        if field in out:
            out[field] = json.dumps(args) if isinstance(out[field], str) else args
    return out


__all__ = ["content_text", "content_texts", "key", "reasoning_texts", "rewrite", "substitute", "texts"]
