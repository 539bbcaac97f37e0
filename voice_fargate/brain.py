"""The offline order-taking brain: a deterministic ``llm.LLM`` that drives the same tools.

It is the default when no ``OPENAI_API_KEY`` is configured and the last entry of the LLM
``FallbackAdapter`` otherwise, so callers keep being served when the LLM provider is down.
Each ``chat()`` looks at the conversation since the caller last spoke:

* nothing answered yet → :func:`voice_fargate.understand.interpret` decides the tool calls
  (or a sentence) for the caller's words;
* tool results came back → it speaks them (menu ids in ``[brackets]`` stripped) and, when
  the flow calls for it, makes the next call: the read-back after "that's all", the
  goodbye (``end_call``) after a confirmed order.

It reads the call's :class:`CallState` (cart, pending question) the way a real LLM reads the
conversation, and never computes a price: amounts come from the tools' own sentences.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from livekit.agents import llm
from livekit.agents.llm import ChatContext, FunctionCallOutput
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)

from voice_fargate.prompts import text
from voice_fargate.state import CallState
from voice_fargate.understand import ToolCall, interpret

_BRACKETS = re.compile(r"\s*\[[^\]]*\]")
MODEL_NAME = "atende-offline-brain-1"


def speakable(sentence: str) -> str:
    """A tool result without the ``[menu-id]`` annotations meant for a real LLM."""
    return _BRACKETS.sub("", sentence).strip()


class OfflineBrain(llm.LLM):
    """Deterministic dialogue for one call (built per call; reads that call's state)."""

    def __init__(self, state: CallState) -> None:
        super().__init__()
        self._state = state

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def provider(self) -> str:
        return "atende"

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
        return _BrainStream(
            self, state=self._state, chat_ctx=chat_ctx, tools=tools or [], conn_options=conn_options
        )


def plan_reply(chat_ctx: ChatContext, state: CallState) -> tuple[str, list[ToolCall]]:
    """What to say and which tools to call next, from the conversation and the state."""
    items = chat_ctx.items
    last_user = max(
        (i for i, it in enumerate(items) if it.type == "message" and it.role == "user"),
        default=-1,
    )
    if last_user < 0:
        return "", []
    user_text = items[last_user].text_content or ""  # type: ignore[union-attr]
    since = items[last_user + 1 :]
    outputs = [it for it in since if isinstance(it, FunctionCallOutput)]
    if not outputs:
        understood = interpret(user_text, state)
        if understood.say is not None:
            if understood.say == "what_to_change":
                state.awaiting = None
            return text(understood.say, state.lang), []
        return "", understood.calls

    # Speak the results not yet spoken: those after the last assistant message of this turn.
    last_said = max(
        (i for i, it in enumerate(since) if it.type == "message" and it.role == "assistant"),
        default=-1,
    )
    fresh = [it for it in since[last_said + 1 :] if isinstance(it, FunctionCallOutput)]
    called = {it.name for it in outputs}
    sentences = [speakable(str(it.output)) for it in fresh]
    follow: list[ToolCall] = []
    fresh_ok = {it.name for it in fresh if not it.is_error}
    if "confirm_order" in fresh_ok and state.order is not None and "end_call" not in called:
        follow.append(ToolCall("end_call"))
    elif (
        interpret(user_text, state).done
        and "read_back_cart" not in called
        and state.cart
        and not any(it.is_error for it in fresh)
    ):
        anything_else = text("anything_else", state.lang)
        sentences = [s.replace(anything_else, "").strip() for s in sentences]
        follow.append(ToolCall("read_back_cart"))
    # Several additions in one turn ask "anything else?" once, at the end.
    anything_else = text("anything_else", state.lang)
    if sum(anything_else in s for s in sentences) > 1:
        sentences = [s.replace(anything_else, "").strip() for s in sentences] + [anything_else]
    return " ".join(s for s in sentences if s), follow


class _BrainStream(llm.LLMStream):
    def __init__(
        self,
        brain: OfflineBrain,
        *,
        state: CallState,
        chat_ctx: ChatContext,
        tools: list[llm.Tool],
        conn_options: APIConnectOptions,
    ) -> None:
        super().__init__(brain, chat_ctx=chat_ctx, tools=tools, conn_options=conn_options)
        self._state = state

    async def _run(self) -> None:
        said, calls = plan_reply(self._chat_ctx, self._state)
        request_id = f"brain-{uuid.uuid4().hex[:12]}"
        tool_calls = [
            llm.FunctionToolCall(
                name=call.name,
                arguments=json.dumps(call.arguments, ensure_ascii=False),
                call_id=f"call_{uuid.uuid4().hex[:12]}",
            )
            for call in calls
        ]
        self._event_ch.send_nowait(
            llm.ChatChunk(
                id=request_id,
                delta=llm.ChoiceDelta(
                    role="assistant", content=said or None, tool_calls=tool_calls
                ),
            )
        )
