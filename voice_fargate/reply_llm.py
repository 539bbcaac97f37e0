"""One small ``llm.LLM`` for every model that answers a whole reply at once.

livekit-agents ships no fake LLM; the offline brain (production), the delayed wrapper of
the benchmark and the scripted LLM of the tests are all "given the conversation, answer
some text and some tool calls" — :class:`ReplyLLM` is that, once. A subclass implements
:meth:`ReplyLLM.reply`; the stream turns the :class:`LLMReply` into the framework's chunks
(one content/tool-call delta, then the usage when there is one).
"""

from __future__ import annotations

import json
import uuid
from abc import abstractmethod
from dataclasses import dataclass, field
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatContext
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)


@dataclass
class LLMReply:
    text: str | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    request_id: str = field(default_factory=lambda: f"reply-{uuid.uuid4().hex[:12]}")


class ReplyLLM(llm.LLM):
    """An LLM whose every answer is one :class:`LLMReply`."""

    requests: list[ChatContext]

    def __init__(self, *, model: str, provider: str, keep_requests: bool = False) -> None:
        super().__init__()
        self._model = model
        self._provider = provider
        self._keep_requests = keep_requests
        self.requests = []

    @property
    def model(self) -> str:
        return self._model

    @property
    def provider(self) -> str:
        return self._provider

    @abstractmethod
    async def reply(self, chat_ctx: ChatContext) -> LLMReply:
        """The answer to ``chat_ctx``; raise ``APIConnectionError`` for an outage."""

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
        if self._keep_requests:
            self.requests.append(chat_ctx.copy())
        return _ReplyStream(self, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options)


class _ReplyStream(llm.LLMStream):
    async def _run(self) -> None:
        model = self._llm
        assert isinstance(model, ReplyLLM)
        answer = await model.reply(self._chat_ctx)
        calls = [
            llm.FunctionToolCall(
                name=name,
                arguments=json.dumps(args, ensure_ascii=False),
                call_id=f"call_{answer.request_id}_{i}",
            )
            for i, (name, args) in enumerate(answer.calls)
        ]
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=answer.request_id,
                delta=llm.ChoiceDelta(
                    role="assistant", content=answer.text or None, tool_calls=calls
                ),
            )
        )
        if answer.prompt_tokens or answer.completion_tokens:
            self._event_ch.send_nowait(
                llm.ChatChunk(
                    id=answer.request_id,
                    usage=llm.CompletionUsage(
                        prompt_tokens=answer.prompt_tokens,
                        completion_tokens=answer.completion_tokens,
                        total_tokens=answer.prompt_tokens + answer.completion_tokens,
                    ),
                )
            )
