"""Building one call's ``AgentSession`` — shared by the worker, the local call and tests.

The worker passes the audio pipeline (STT/TTS/VAD behind fallback adapters); text mode
(tests, ``atende call``) passes only the LLM. Either way the agent, the tools, the state
and the records are the same code.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import Agent, AgentSession, llm, stt, tts, vad
from livekit.agents.types import NOT_GIVEN

from voice_fargate.agent import OrderingAgent, RefusalAgent
from voice_fargate.state import CallState

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
    return AgentSession[CallState](
        llm=llm_model,
        stt=stt_model if stt_model is not None else NOT_GIVEN,
        tts=tts_model if tts_model is not None else NOT_GIVEN,
        vad=vad_model,  # None: no implicit default VAD in text mode
        userdata=state,
        max_tool_steps=MAX_TOOL_STEPS,
        **options,
    )
