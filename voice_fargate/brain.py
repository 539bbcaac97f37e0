"""The offline order-taking brain as a LiveKit ``llm.LLM`` (a :class:`ReplyLLM`).

It is the default when no ``OPENAI_API_KEY`` is configured and the last entry of the LLM
``FallbackAdapter`` otherwise, so callers keep being served when the LLM provider is down.
The understanding and the dialogue are the ordering core's
(:mod:`atende_shared.ordering.dialogue`); this adapter only reads the ``ChatContext``: the
caller's last words, the tool results since, and which of them were already spoken.
"""

from __future__ import annotations

from livekit.agents.llm import ChatContext, FunctionCallOutput

from atende_shared.ordering.dialogue import MODEL_NAME, ToolResult, plan_reply, speakable
from atende_shared.ordering.state import OrderState
from atende_shared.ordering.understand import ToolCall
from voice_fargate.reply_llm import LLMReply, ReplyLLM

__all__ = ["MODEL_NAME", "OfflineBrain", "plan_from_context", "speakable"]


def plan_from_context(chat_ctx: ChatContext, state: OrderState) -> tuple[str, list[ToolCall]]:
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
    last_said = max(
        (i for i, it in enumerate(since) if it.type == "message" and it.role == "assistant"),
        default=-1,
    )

    def result(it: FunctionCallOutput) -> ToolResult:
        return ToolResult(it.name, str(it.output), it.is_error)

    results = [result(it) for it in since if isinstance(it, FunctionCallOutput)]
    fresh = [result(it) for it in since[last_said + 1 :] if isinstance(it, FunctionCallOutput)]
    return plan_reply(user_text, state, results=results, fresh=fresh)


class OfflineBrain(ReplyLLM):
    """Deterministic dialogue for one call (built per call; reads that call's state)."""

    def __init__(self, state: OrderState) -> None:
        super().__init__(model=MODEL_NAME, provider="atende")
        self._state = state

    async def reply(self, chat_ctx: ChatContext) -> LLMReply:
        said, calls = plan_from_context(chat_ctx, self._state)
        return LLMReply(text=said, calls=[(c.name, c.arguments) for c in calls])
