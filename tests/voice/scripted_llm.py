"""A small scripted LLM for text-mode tests (the shared :class:`ReplyLLM`).

Each ``chat()`` consumes the next :class:`Step`: some text, some tool calls, or an error
(raised as the framework's ``APIConnectionError``, like a provider outage). When the
script runs out it answers with an empty message, so a forgotten step shows up as a
missing event rather than a hang. ``requests`` keeps every chat context it was sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from livekit.agents import APIConnectionError
from livekit.agents.llm import ChatContext

from voice_fargate.reply_llm import LLMReply, ReplyLLM


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


class ScriptedLLM(ReplyLLM):
    def __init__(self, steps: list[Step], *, model: str = "scripted-1") -> None:
        super().__init__(model=model, provider="scripted", keep_requests=True)
        self.steps = list(steps)
        self._counter = 0

    async def reply(self, chat_ctx: ChatContext) -> LLMReply:
        self._counter += 1
        step = self.steps.pop(0) if self.steps else Step(text="")
        if step.error:
            raise APIConnectionError("scripted provider outage", retryable=False)
        return LLMReply(
            text=step.text,
            calls=step.calls,
            prompt_tokens=step.prompt_tokens,
            completion_tokens=step.completion_tokens,
            request_id=f"{self.model}_{self._counter}",
        )
