"""What a call leaves behind: the transcript in S3 and the usage report for billing.

Built from the session's history (turns and tool calls with timestamps, as the framework
recorded them) and the call state (cart, order, outcome). :func:`finalise_call` runs once
per call when the session ends; a failed upload or publish is logged, never raised, since
the caller is already gone and the order (if any) was published at confirmation.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from livekit.agents import AgentSession
from livekit.agents.llm import ChatContext, ChatMessage, FunctionCall, FunctionCallOutput
from livekit.agents.metrics.usage import LLMModelUsage, STTModelUsage, TTSModelUsage

from atende_shared.events import CallUsageReported
from atende_shared.models.common import utc_now
from atende_shared.observability import logger
from atende_shared.ordering.pricing import cart_total, delivery_fee, price_lines
from voice_fargate.services import transcript_key
from voice_fargate.state import CallState

TRANSCRIPT_VERSION = 1


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def usage_event(state: CallState, usage: Any) -> CallUsageReported:
    """Sum the session's per-model usage into the billing event."""
    stt_seconds, prompt, completion, characters = 0.0, 0, 0, 0
    models: dict[str, str] = {}
    for entry in getattr(usage, "model_usage", []) or []:
        if isinstance(entry, LLMModelUsage):
            prompt += entry.input_tokens
            completion += entry.output_tokens
            models.setdefault("llm", f"{entry.provider}/{entry.model}")
        elif isinstance(entry, STTModelUsage):
            stt_seconds += entry.audio_duration
            models.setdefault("stt", f"{entry.provider}/{entry.model}")
        elif isinstance(entry, TTSModelUsage):
            characters += entry.characters_count
            models.setdefault("tts", f"{entry.provider}/{entry.model}")
    return CallUsageReported(
        event_id=f"usage-{state.call_id}"[:64],  # one report per call, whatever retries
        tenant_id=state.tenant.tenant_id,
        correlation_id=state.correlation_id,
        call_id=state.call_id,
        stt_audio_seconds=round(stt_seconds, 3),
        llm_prompt_tokens=prompt,
        llm_completion_tokens=completion,
        tts_characters=characters,
        models=models,
        outcome=state.outcome,
        summary=summary(state)[:500],
    )


def summary(state: CallState) -> str:
    """One line for people scanning calls: outcome, items, total."""
    lines = price_lines(state)
    items = ", ".join(f"{ln.quantity}x {ln.name}" for ln in lines) or "no items"
    if state.order is not None:
        order = state.order
        return f"{state.outcome}: order {order.number} ({items}), total {order.total_cents} cents"
    return f"{state.outcome}: {items}"


def build_transcript(
    state: CallState, history: ChatContext, usage: CallUsageReported
) -> dict[str, Any]:
    """The transcript JSON (turns, tool calls, outcome) stored under ``transcripts/``."""
    turns: list[dict[str, Any]] = []
    tool_calls: list[dict[str, Any]] = []
    outputs = {it.call_id: it for it in history.items if isinstance(it, FunctionCallOutput)}
    for item in history.items:
        if isinstance(item, ChatMessage) and item.role in ("user", "assistant"):
            turn: dict[str, Any] = {
                "role": "caller" if item.role == "user" else "agent",
                "text": item.text_content or "",
                "at": _iso(item.created_at),
                "interrupted": item.interrupted,
            }
            latency = {
                k: round(float(v), 4)
                for k, v in (item.metrics or {}).items()
                if k
                in (
                    "e2e_latency",
                    "llm_node_ttft",
                    "tts_node_ttfb",
                    "transcription_delay",
                    "end_of_turn_delay",
                )
                and isinstance(v, int | float)
            }
            if latency:
                turn["latency"] = latency
            turns.append(turn)
        elif isinstance(item, FunctionCall):
            result = outputs.get(item.call_id)
            tool_calls.append(
                {
                    "name": item.name,
                    "arguments": item.arguments,
                    "at": _iso(item.created_at),
                    "output": result.output if result else None,
                    "error": result.is_error if result else None,
                }
            )
    order = None
    if state.order is not None:
        order = {
            "order_id": state.order.order_id,
            "number": state.order.number,
            "total_cents": state.order.total_cents,
            "fulfilment": state.fulfilment,
            "delivery_address": state.address,
            "delivery_fee_cents": delivery_fee(state),
            "customer_name": state.customer_name,
            "payment": state.payment.model_dump(mode="json") if state.payment else None,
        }
    return {
        "version": TRANSCRIPT_VERSION,
        "tenant_id": state.tenant.tenant_id,
        "call_id": state.call_id,
        "room_name": state.room_name,
        "caller_number": state.caller_number,
        "dialled_number": state.dialled_number,
        "language": state.agent_config.language,
        "started_at": state.started_at.isoformat(),
        "ended_at": (state.ended_at or utc_now()).isoformat(),
        "outcome": state.outcome,
        "summary": summary(state),
        "order": order,
        "cart": [ln.model_dump() for ln in price_lines(state)],
        "cart_total_cents": cart_total(state),
        "turns": turns,
        "tool_calls": tool_calls,
        "usage": usage.model_dump(
            mode="json",
            include={
                "stt_audio_seconds",
                "llm_prompt_tokens",
                "llm_completion_tokens",
                "tts_characters",
                "models",
            },
        ),
    }


async def finalise_call(session: AgentSession[CallState], state: CallState) -> dict[str, Any]:
    """Write the transcript and publish the usage report (once). Returns the transcript."""
    if state.transcript is not None:  # a second shutdown path: already written
        return state.transcript
    if state.ended_at is None:
        state.ended_at = utc_now()
    if state.outcome == "in_progress":
        state.outcome = "abandoned"
    usage = usage_event(state, session.usage)
    transcript = build_transcript(state, session.history, usage)
    key = transcript_key(state.tenant.tenant_id, state.call_id, state.started_at)
    try:
        await asyncio.to_thread(state.services.transcripts.put_json, key, transcript)
    except Exception as exc:
        logger.error(
            "transcript upload failed", extra={"call_id": state.call_id, "error": str(exc)}
        )
    try:
        await asyncio.to_thread(state.services.publisher.publish, [usage])
    except Exception as exc:
        logger.error("usage report failed", extra={"call_id": state.call_id, "error": str(exc)})
    state.transcript = transcript
    logger.info(
        "call finished",
        extra={
            "call_id": state.call_id,
            "outcome": state.outcome,
            "summary": transcript["summary"],
        },
    )
    return transcript
