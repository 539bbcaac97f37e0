"""Building one call's ``AgentSession`` — shared by the worker, the local call and tests.

The worker passes the audio pipeline (STT/TTS/VAD behind fallback adapters); text mode
(tests, ``atende call``) passes only the LLM. Either way the agent, the tools, the state
and the records are the same code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from livekit.agents import Agent, AgentSession, llm, stt, tts, vad
from livekit.agents.types import NOT_GIVEN

from atende_shared.models.common import utc_now
from atende_shared.ordering.customers import recall
from atende_shared.ordering.prompts import text
from voice_fargate.admission import check_admission
from voice_fargate.agent import OrderingAgent, RefusalAgent
from voice_fargate.state import CallServices, CallState
from voice_fargate.tenant_cache import TenantBundle

#: add → speak; confirm → speak + end_call → goodbye: a turn needs a few tool steps.
MAX_TOOL_STEPS = 5


def agent_for(state: CallState) -> Agent:
    """The refusal agent for calls that may not order, else the ordering agent."""
    return RefusalAgent(state) if state.refusal else OrderingAgent(state)


def new_session(
    state: CallState,
    *,
    llm_model: llm.LLM,
    stt_model: stt.STT | None = None,
    tts_model: tts.TTS | None = None,
    vad_model: vad.VAD | None = None,
    **options: Any,
) -> AgentSession[CallState]:
    """An ``AgentSession`` for ``state``; without STT/TTS/VAD it runs in text mode."""
    if vad_model is None and "turn_handling" not in options:
        # Text mode: turns are the text runs themselves; no default turn detector wanted.
        options["turn_handling"] = {"turn_detection": None}
    return AgentSession[CallState](
        llm=llm_model,
        stt=stt_model if stt_model is not None else NOT_GIVEN,
        tts=tts_model if tts_model is not None else NOT_GIVEN,
        vad=vad_model,  # None: no implicit default VAD in text mode
        userdata=state,
        max_tool_steps=MAX_TOOL_STEPS,
        **options,
    )


def prepare_call(
    bundle: TenantBundle,
    *,
    call_id: str,
    room_name: str,
    services: CallServices,
    caller_number: str | None = None,
    dialled_number: str | None = None,
    participant_identity: str | None = None,
    now: datetime | None = None,
) -> CallState:
    """The call's state, with the refusal already decided (status, business hours)."""
    state = CallState(
        tenant=bundle.tenant,
        agent_config=bundle.agent_config,
        menu=bundle.menu,
        _index=bundle.index,
        call_id=call_id,
        room_name=room_name,
        services=services,
        caller_number=caller_number,
        dialled_number=dialled_number,
        participant_identity=participant_identity,
    )
    refusal = check_admission(bundle.tenant, bundle.agent_config, now or utc_now())
    if refusal is not None:
        state.refusal, state.outcome = refusal.message, refusal.outcome
    else:  # a returning caller is greeted by name and may ask for "o de sempre"
        recall(state, services.customers)
    return state


def limit_call_length(
    session: AgentSession[CallState], state: CallState, *, seconds: float
) -> asyncio.TimerHandle:
    """After ``seconds`` (the tenant's ``max_call_seconds``), say so politely and hang up."""

    def expire() -> None:
        if state.outcome == "in_progress":
            state.outcome = "ordered" if state.order else "ended_without_order"
        handle = session.say(text("max_duration", state.lang), add_to_chat_ctx=True)
        handle.add_done_callback(lambda _: session.shutdown(drain=True))

    return asyncio.get_running_loop().call_later(seconds, expire)
