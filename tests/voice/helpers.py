"""Running a text-mode call in tests: start a session, feed turns, collect what happened."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from livekit.agents import AgentSession, RunResult, llm

from voice_fargate.session import agent_for, new_session
from voice_fargate.state import CallState

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one async test body (no pytest-asyncio in the pinned set)."""
    return asyncio.run(coro)


@asynccontextmanager
async def started(state: CallState, model: llm.LLM) -> AsyncIterator[AgentSession[CallState]]:
    """Given a started text-mode session for ``state`` answering with ``model``."""
    async with model, new_session(state, llm_model=model) as session:
        await session.start(agent_for(state))
        for _ in range(200):  # the greeting is said before the caller speaks, as on a call
            if any(m.role == "assistant" for m in session.history.messages()):
                break
            await asyncio.sleep(0.005)
        yield session


def watch_close(session: AgentSession[Any]) -> asyncio.Event:
    """An event set when the session closes (register before the turn that ends it)."""
    closed = asyncio.Event()
    session.on("close", lambda _event: closed.set())
    return closed


async def closes(closed: asyncio.Event, timeout: float = 5.0) -> bool:
    """True once the session closed, False if it stayed open for ``timeout`` seconds."""
    try:
        await asyncio.wait_for(closed.wait(), timeout)
    except TimeoutError:
        return False
    return True


def spoken(result: Any) -> list[str]:
    """The agent's messages in one run's events."""
    return [
        ev.item.text_content or ""
        for ev in result.events
        if ev.type == "message" and ev.item.role == "assistant"
    ]


def tool_calls(result: Any) -> list[tuple[str, str]]:
    return [(ev.item.name, ev.item.arguments) for ev in result.events if ev.type == "function_call"]


async def turn(session: AgentSession[Any], text: str) -> RunResult[Any]:
    """One caller utterance in text mode; the run's events."""
    result: RunResult[Any] = await session.run(user_input=text)
    return result
