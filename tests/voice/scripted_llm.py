"""A small scripted LLM for text-mode tests (livekit-agents ships none).

Each ``chat()`` consumes the next :class:`Step`: some text, some tool calls, or an error
(raised as the framework's ``APIConnectionError``, like a provider outage). When the
script runs out it answers with an empty message, so a forgotten step shows up as a
missing event rather than a hang. ``requests`` keeps every chat context it was sent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIConnectionError, llm
from livekit.agents.llm import ChatContext
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)


@dataclass
class Step:
    text: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: bool = False
    prompt_tokens: int = 40
    completion_tokens: int = 8


def say(text: str) -> Step:
    return Step(text=text)


def call(name: str, **arguments: Any) -> Step:
    return Step(calls=[(name, arguments)])


class ScriptedLLM(llm.LLM):
    def __init__(self, steps: list[Step], *, model: str = "scripted-1") -> None:
        super().__init__()
        self.steps = list(steps)
        self.requests: list[ChatContext] = []
        self._model = model
        self._counter = 0

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return "scripted"

    def next_step(self) -> Step:
        self._counter += 1
        return self.steps.pop(0) if self.steps else Step(text="")

    def call_id(self) -> str:
        return f"call_{self._model}_{self._counter}"

    def chat(
        self,
        *,
        chat_ctx: ChatContext,
        tools: list[llm.Tool] | None = None,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
        parallel_tool_calls: NotGivenOr[bool] = NOT_GIVEN,
        tool_choice: NotGivenOr[llm.ToolChoice] = NOT_GIVEN,
        extra_kwargs: NotGivenOr[dict[str, Any]] = NOT_GIVEN,
    ) -> llm.LLMStream:
        self.requests.append(chat_ctx.copy())
        return _ScriptedStream(
            self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


class _ScriptedStream(llm.LLMStream):
    async def _run(self) -> None:
        scripted = self._llm
        assert isinstance(scripted, ScriptedLLM)
        step = scripted.next_step()
        if step.error:
            raise APIConnectionError("scripted provider outage", retryable=False)
        calls = [
            llm.FunctionToolCall(
                name=name, arguments=json.dumps(args), call_id=f"{scripted.call_id()}_{i}"
            )
            for i, (name, args) in enumerate(step.calls)
        ]
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=scripted.call_id(),
                delta=llm.ChoiceDelta(role="assistant", content=step.text, tool_calls=calls),
            )
        )
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=scripted.call_id(),
                usage=llm.CompletionUsage(
                    prompt_tokens=step.prompt_tokens,
                    completion_tokens=step.completion_tokens,
                    total_tokens=step.prompt_tokens + step.completion_tokens,
                ),
            )
        )
