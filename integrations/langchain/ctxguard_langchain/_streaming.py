"""Stream an agent's answer to a user with only checked text released.

``agent.stream(..., stream_mode="messages")`` yields the model's tokens as the model produces them,
before any ``after_model`` or ``wrap_model_call`` code sees the finished message: a token stream
shown as is carries pseudonyms, and a markdown image or a secret is on screen before anyone could
block it. ``guarded_stream`` feeds each model message's tokens through ``session.stream_output()``
(the hold-back window of ``ctxguard.stream``) and yields only what the window releases: checked,
pseudonyms restored, and nothing more once a check blocks (then one short notice instead).

Only text the model writes is yielded; tool results and tool-call arguments are not (the
middleware checks those). The window holds text back (``hold_back`` characters, released in pieces
of at least ``min_release``), so a short answer arrives whole when its message ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage

from ctxguard import Session
from ctxguard.stream import OutputStream

from ._messages import content_text

if TYPE_CHECKING:
    from langchain_core.runnables import RunnableConfig


class _Windows:
    """One hold-back window per model message, closed when the next message starts or the run ends."""

    def __init__(self, session: Session, hold_back: int, min_release: int) -> None:
        self.session = session
        self.hold_back = hold_back
        self.min_release = min_release
        self.current: str | None = None
        self.window: OutputStream | None = None
        self.finished: set[str] = set()

    def feed(self, msg: BaseMessage, meta: Any) -> list[str]:
        """Text to show now for one streamed message or chunk."""
        if not isinstance(msg, AIMessage | AIMessageChunk):
            return []
        ident = msg.id or f"run:{meta.get('langgraph_checkpoint_ns', '') if isinstance(meta, dict) else ''}"
        if ident in self.finished:
            return []  # the node's finished message, after its tokens were already streamed
        out: list[str] = []
        if ident != self.current:
            out += self.close()
            self.current = ident
            self.window = self.session.stream_output(hold_back=self.hold_back, min_release=self.min_release)
        text = content_text(msg.content)
        if text and self.window is not None:
            released = self.window.feed(text)
            if released:
                out.append(released)
        return out

    def close(self) -> list[str]:
        if self.window is None or self.current is None:
            return []
        decision = self.window.close()
        self.finished.add(self.current)
        self.window = None
        self.current = None
        if not decision.allowed:
            return [f"\n[ctxguard blocked the rest of this answer: {decision.reason}]"]
        return [decision.text] if decision.text else []


def guarded_stream(
    agent: Any,
    input: Any,
    session: Session,
    *,
    config: RunnableConfig | None = None,
    hold_back: int = 256,
    min_release: int = 256,
    **stream_kwargs: Any,
) -> Iterator[str]:
    """Run ``agent.stream(input, config, stream_mode="messages")`` and yield only checked answer text."""
    windows = _Windows(session, hold_back, min_release)
    for item in agent.stream(input, config, stream_mode="messages", **stream_kwargs):
        msg, meta = item if isinstance(item, tuple) else (item, {})
        yield from windows.feed(msg, meta)
    yield from windows.close()


async def aguarded_stream(
    agent: Any,
    input: Any,
    session: Session,
    *,
    config: RunnableConfig | None = None,
    hold_back: int = 256,
    min_release: int = 256,
    **stream_kwargs: Any,
) -> AsyncIterator[str]:
    """``guarded_stream`` for ``agent.astream``; the checks run in a worker thread."""
    windows = _Windows(session, hold_back, min_release)
    async for item in agent.astream(input, config, stream_mode="messages", **stream_kwargs):
        msg, meta = item if isinstance(item, tuple) else (item, {})
        for piece in await asyncio.to_thread(windows.feed, msg, meta):
            yield piece
    for piece in await asyncio.to_thread(windows.close):
        yield piece


__all__ = ["aguarded_stream", "guarded_stream"]
