"""A whole call in audio through the worker's own pipeline, every provider plugin REAL.

The caller's sentences are espeak-ng speech pushed as 20 ms frames in real time; Silero VAD
(real), Deepgram STT (``deepgram.STT`` → the stand-in's websocket, pocketsphinx behind it),
the OpenAI LLM (``openai.LLM`` → streamed chat completions) and OpenAI TTS (``openai.TTS`` →
espeak-ng audio) are built by ``voice_fargate.pipeline`` from settings that point at the
stand-ins, exactly as the worker builds them. Midway, Deepgram drops its sockets and the
primary TTS model answers 503: the call goes on through the OpenAI transcription endpoint
(behind VAD) and the ``tts-1`` model.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.utils import http_context

from atende_local.stand_ins import StandIns
from atende_local.stand_ins.speech import speech_seconds, synthesize
from atende_local.voice_fakes import FakeAudioInput, FakeAudioOutput
from tests.voice.conftest import make_state
from tests.voice.helpers import run
from voice_fargate.brain import OfflineBrain
from voice_fargate.pipeline import TURN_HANDLING, build_llm, build_stt, build_tts, load_vad
from voice_fargate.session import agent_for, new_session
from voice_fargate.settings import ProviderSettings

pytestmark = pytest.mark.stand_ins

RATE = 16_000
FRAME = RATE // 50  # 20 ms


class RecordingOutput(FakeAudioOutput):
    """The caller's ear, keeping every reply's samples."""

    def __init__(self) -> None:
        super().__init__()
        self.segments: list[bytearray] = []

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        opening = not self._segment_open
        await super().capture_frame(frame)
        if opening:
            self.segments.append(bytearray())
        self.segments[-1] += frame.data.tobytes()


class Caller:
    """Pushes silence in real time, and a sentence's frames when told to speak."""

    def __init__(self) -> None:
        self.audio_in = FakeAudioInput()
        self.audio_out = RecordingOutput()
        self._pending: list[bytes] = []
        self._stop = asyncio.Event()

    async def pump(self) -> None:
        start, sent = time.perf_counter(), 0
        silence = b"\0" * FRAME * 2
        while not self._stop.is_set():
            data = self._pending.pop(0) if self._pending else silence
            self.audio_in.queue.put_nowait(rtc.AudioFrame(data, RATE, 1, FRAME))
            sent += 1
            await asyncio.sleep(max(0.0, start + sent * 0.02 - time.perf_counter()))

    def say(self, text: str) -> None:
        pcm = synthesize(text, sample_rate=RATE)
        pcm += b"\0" * (-len(pcm) % (FRAME * 2))
        self._pending += [pcm[i : i + FRAME * 2] for i in range(0, len(pcm), FRAME * 2)]

    def stop(self) -> None:
        self._stop.set()


async def _reply(session: AgentSession[Any], caller: Caller, before: int, timeout: float) -> None:
    """Wait until a new reply started playing and the agent is listening again."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(caller.audio_out.segments) > before and session.agent_state == "listening":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no reply within {timeout} s (state {session.agent_state})")


def test_a_call_in_audio_survives_deepgram_and_the_primary_tts_failing(
    stand_ins: StandIns,
) -> None:
    # Given the worker's pipeline built from settings pointing at the stand-ins
    state = make_state(lang="en-US")
    settings = ProviderSettings()
    caller = Caller()
    switched = asyncio.Event()

    async def body() -> None:
        vad_model = load_vad()
        stt_model = build_stt(settings, language="en-US", vad_model=vad_model)
        tts_model = build_tts(settings, voice="ash")
        assert stt_model is not None
        assert tts_model is not None
        stt_model.on("stt_availability_changed", lambda ev: switched.set())
        session = new_session(
            state,
            llm_model=build_llm(settings, OfflineBrain(state)),
            stt_model=stt_model,
            tts_model=tts_model,
            vad_model=vad_model,
            turn_handling=TURN_HANDLING,
        )
        session.input.audio = caller.audio_in
        session.output.audio = caller.audio_out
        pumping = asyncio.create_task(caller.pump())
        try:
            async with session:
                await session.start(agent_for(state))
                await _reply(session, caller, 0, timeout=20)  # the greeting
                # When the caller orders through the primaries
                caller.say("two cokes please")
                await _reply(session, caller, 1, timeout=20)
                # And Deepgram then drops its sockets and the primary TTS answers 503
                stand_ins.deepgram.fail()
                stand_ins.openai.fail("gpt-4o-mini-tts", status=503)
                await asyncio.wait_for(switched.wait(), 30)
                caller.say("one garlic bread")
                await _reply(session, caller, 2, timeout=25)
        finally:
            caller.stop()
            await pumping

    async def in_job_context() -> None:
        async with http_context.open():
            await body()

    run(in_job_context())
    # Then both orders were taken: the first heard by Deepgram, the second by the fallback
    assert [(ln.item_id, ln.quantity) for ln in state.cart] == [("coke", 2), ("garlic-bread", 1)]
    [first_stream, *_] = stand_ins.deepgram.sessions
    assert "two cokes please" in [t.lower().rstrip(".") for t in first_stream.finals()]
    transcribed = stand_ins.openai.of("transcriptions", "gpt-4o-mini-transcribe")
    assert "one garlic bread" in [r.detail.get("text") for r in transcribed]
    # And every reply reached the caller as real speech of the length of its sentence
    speech = stand_ins.openai.of("speech")
    spoken = [r for r in speech if r.status == 200]
    assert {r.model for r in spoken} == {"gpt-4o-mini-tts", "tts-1"}
    assert spoken[0].detail["stream_format"] == "sse"
    assert spoken[0].detail["response_format"] == "mp3"
    assert spoken[-1].model == "tts-1"
    assert spoken[-1].detail["stream_format"] == "audio"
    # (a reply of several sentences is several requests played as one segment)
    heard = [len(segment) / 2 / RATE for segment in caller.audio_out.segments]
    synthesised = sum(r.detail["audio_seconds"] for r in spoken)
    assert len(heard) == 3  # greeting, two replies
    assert abs(sum(heard) - synthesised) < 0.1 * synthesised, (heard, synthesised)
    for segment, seconds in zip(caller.audio_out.segments, heard, strict=True):
        assert seconds > 1.0
        assert speech_seconds(bytes(segment), RATE) > 0.5 * seconds  # voiced, not silence
