"""A provider failing mid-call: the next one in the FallbackAdapter answers, the call goes on."""

from __future__ import annotations

import io
import json

from livekit.agents import llm, tts

from atende_local.voice_fakes import DelayedLLM, FakeCaller, FakeSTT, FakeTTS, FakeVAD
from tests.voice.conftest import make_state
from tests.voice.helpers import closes, run, started, tool_calls, turn, watch_close
from tests.voice.scripted_llm import ScriptedLLM, call, say
from voice_fargate.brain import OfflineBrain
from voice_fargate.pipeline import TURN_HANDLING
from voice_fargate.session import agent_for, new_session
from voice_fargate.telemetry import EmfWriter, attach_latency_metrics


def test_primary_llm_failing_mid_call_falls_back_to_the_offline_brain() -> None:
    # Given a primary LLM that serves the first turn (two requests) and then goes down,
    # with the offline brain as the last fallback
    state = make_state(lang="pt-BR")
    primary = DelayedLLM(
        ScriptedLLM([call("add_item", item_id="coca-cola-2l", quantity=2), say("Duas cocas.")]),
        ttft=0.0,
        fail_after=2,
    )
    model = llm.FallbackAdapter([primary, OfflineBrain(state)], attempt_timeout=2.0)

    async def body() -> None:
        async with started(state, model) as session:
            closed = watch_close(session)
            first = await turn(session, "duas cocas")
            # When the primary fails on the next turn
            second = await turn(session, "e uma água")
            third = await turn(session, "tira a coca")
            # Then the brain answers the same tools and the call is still up
            assert tool_calls(first) == [("add_item", '{"item_id": "coca-cola-2l", "quantity": 2}')]
            assert tool_calls(second) == [
                ("add_item", '{"item_id": "agua-sem-gas", "quantity": 1}')
            ]
            assert tool_calls(third) == [("remove_item", '{"item_id": "coca-cola-2l"}')]
            assert not await closes(closed, timeout=0.2)
        assert [(ln.item_id, ln.quantity) for ln in state.cart] == [("agua-sem-gas", 1)]

    run(body())


def test_primary_tts_failing_mid_call_switches_to_the_second_model() -> None:
    # Given the full audio path with a primary TTS that fails after its first request
    state = make_state(lang="pt-BR")
    caller = FakeCaller(["duas cocas", "e uma água", "só isso"], speech_seconds=0.2)
    primary = FakeTTS(ttfb=0.01, audio_seconds=0.06, fail_after=1, name="tts-primary")
    secondary = FakeTTS(ttfb=0.01, audio_seconds=0.06, name="tts-secondary")
    stream = io.StringIO()
    emf = EmfWriter("Atende", service="voice-agent", stream=stream)

    async def body() -> None:
        session = new_session(
            state,
            llm_model=OfflineBrain(state),
            stt_model=FakeSTT(caller.transcripts, final_delay=0.06),
            tts_model=tts.FallbackAdapter([primary, secondary], max_retry_per_tts=0),
            vad_model=FakeVAD(silence_seconds=0.1),
            turn_handling={**TURN_HANDLING, "endpointing": {"min_delay": 0.0, "max_delay": 1.0}},
        )
        session.input.audio = caller.audio_in
        session.output.audio = caller.audio_out
        attach_latency_metrics(session, tenant_id="pizzaria-teste", call_id="c1", emf=emf)
        async with session:
            closed = watch_close(session)
            await session.start(agent_for(state))
            # When the caller speaks three turns
            timings = await caller.run(session)
            # Then every turn was answered with audio, by the second model after the
            # failure, and the call never dropped
            assert [t.first_audio is not None for t in timings] == [True, True, True]
            assert not closed.is_set()

    run(body())
    # And each answered turn logged its end-of-utterance → first-audio latency as EMF
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    agent_turns = [r for r in records if "e2e_latency" in r]
    assert len(agent_turns) == 3
    assert all(r["e2e_latency"] > 0 and "tts_node_ttfb" in r for r in agent_turns)
    assert len(primary.requests) >= 2  # the greeting, then the failed attempt
    assert secondary.requests  # everything after the failure
    assert [(ln.item_id, ln.quantity) for ln in state.cart] == [
        ("coca-cola-2l", 2),
        ("agua-sem-gas", 1),
    ]
    assert state.awaiting == "fulfilment"
