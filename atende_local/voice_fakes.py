"""Test and bench doubles for the voice agent's audio pipeline: VAD, STT, TTS, LLM delay,
audio I/O.

None of these is used in production (they live in ``atende_local``, outside the agent's
image). They let the real ``AgentSession`` run its full
audio path (audio in → VAD → STT → turn end → LLM → tools → TTS → audio out) on this
machine, with **fixed, known provider delays**, so a benchmark can subtract them and
report the agent's own overhead, and tests can make a provider fail mid-call.

The "audio" is 16 kHz mono PCM in 20 ms frames: a frame whose samples are loud is speech,
a zero frame is silence. :class:`FakeCaller` paces frames in real time (absolute
schedule), says each utterance as ``speech_seconds`` of loud frames and hands the text
the STT will "recognise" through a shared queue.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from livekit import rtc
from livekit.agents import AgentSession, APIConnectionError, stt, tts, vad
from livekit.agents.language import LanguageCode
from livekit.agents.llm import ChatContext
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer
from livekit.agents.voice.io import AudioInput, AudioOutput, AudioOutputCapabilities

from voice_fargate.reply_llm import LLMReply, ReplyLLM

SAMPLE_RATE = 16_000
FRAME_MS = 20
SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
_LOUD = 3_000


def make_frame(loud: bool) -> rtc.AudioFrame:
    value = _LOUD if loud else 0
    data = value.to_bytes(2, "little", signed=True) * SAMPLES
    return rtc.AudioFrame(data, SAMPLE_RATE, 1, SAMPLES)


def is_loud(frame: rtc.AudioFrame) -> bool:
    samples = frame.data
    return bool(len(samples)) and abs(int(samples[0])) > _LOUD // 2


def _duration(frame: rtc.AudioFrame) -> float:
    return frame.samples_per_channel / frame.sample_rate


# -- VAD -----------------------------------------------------------------------------------


class FakeVAD(vad.VAD):
    """End of speech exactly ``silence_seconds`` of silent audio after the last loud frame."""

    def __init__(self, *, silence_seconds: float = 0.25) -> None:
        super().__init__(capabilities=vad.VADCapabilities(update_interval=FRAME_MS / 1000))
        self.silence_seconds = silence_seconds

    @property
    def model(self) -> str:
        return "fake-vad"

    @property
    def provider(self) -> str:
        return "fake"

    def stream(self) -> vad.VADStream:
        return _FakeVADStream(self)


class _FakeVADStream(vad.VADStream):
    async def _main_task(self) -> None:
        fake = self._vad
        assert isinstance(fake, FakeVAD)
        speaking, speech, silence, index = False, 0.0, 0.0, 0
        frames: list[rtc.AudioFrame] = []
        async for item in self._input_ch:
            if not isinstance(item, rtc.AudioFrame):  # flush: a hard segment boundary
                speaking, speech, silence, frames = False, 0.0, 0.0, []
                continue
            duration = _duration(item)
            index += item.samples_per_channel
            loud = is_loud(item)
            if loud:
                silence = 0.0
                speech += duration
                frames.append(item)
                if not speaking:
                    speaking = True
                    self._event_ch.send_nowait(
                        vad.VADEvent(
                            type=vad.VADEventType.START_OF_SPEECH,
                            samples_index=index,
                            timestamp=time.time(),
                            speech_duration=speech,
                            silence_duration=0.0,
                            frames=[item],
                            speaking=True,
                        )
                    )
            elif speaking:
                silence += duration
                if silence >= fake.silence_seconds - 1e-9:
                    speaking = False
                    self._event_ch.send_nowait(
                        vad.VADEvent(
                            type=vad.VADEventType.END_OF_SPEECH,
                            samples_index=index,
                            timestamp=time.time(),
                            speech_duration=speech,
                            silence_duration=silence,
                            frames=frames,
                            speaking=False,
                        )
                    )
                    speech, frames = 0.0, []
            self._event_ch.send_nowait(
                vad.VADEvent(
                    type=vad.VADEventType.INFERENCE_DONE,
                    samples_index=index,
                    timestamp=time.time(),
                    speech_duration=speech,
                    silence_duration=silence,
                    frames=[item],
                    probability=1.0 if loud else 0.0,
                    speaking=speaking,
                    raw_accumulated_speech=speech,
                    raw_accumulated_silence=silence,
                )
            )


# -- STT -----------------------------------------------------------------------------------


class FakeSTT(stt.STT):
    """Streaming STT: the final transcript ``final_delay`` seconds of audio after speech ends.

    The text comes from ``transcripts`` (the caller queues what it "said")."""

    def __init__(
        self, transcripts: deque[str], *, final_delay: float = 0.15, language: str = "pt"
    ) -> None:
        super().__init__(capabilities=stt.STTCapabilities(streaming=True, interim_results=False))
        self.transcripts = transcripts
        self.final_delay = final_delay
        self.language = language

    @property
    def model(self) -> str:
        return "fake-stt"

    @property
    def provider(self) -> str:
        return "fake"

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions,
    ) -> stt.SpeechEvent:
        text = self.transcripts.popleft() if self.transcripts else ""
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            alternatives=[stt.SpeechData(language=LanguageCode(self.language), text=text)],
        )

    def stream(
        self,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.RecognizeStream:
        return _FakeSTTStream(stt=self, conn_options=conn_options)


class _FakeSTTStream(stt.RecognizeStream):
    async def _run(self) -> None:
        fake = self._stt
        assert isinstance(fake, FakeSTT)
        in_speech, speech, silence = False, 0.0, 0.0
        async for item in self._input_ch:
            if not isinstance(item, rtc.AudioFrame):
                continue
            duration = _duration(item)
            if is_loud(item):
                silence = 0.0
                speech += duration
                if not in_speech:
                    in_speech = True
                    self._event_ch.send_nowait(
                        stt.SpeechEvent(type=stt.SpeechEventType.START_OF_SPEECH)
                    )
                continue
            if not in_speech:
                continue
            silence += duration
            if silence >= fake.final_delay - 1e-9:
                in_speech = False
                text = fake.transcripts.popleft() if fake.transcripts else ""
                language = LanguageCode(fake.language)
                for event in (
                    stt.SpeechEvent(
                        type=stt.SpeechEventType.FINAL_TRANSCRIPT,
                        alternatives=[stt.SpeechData(language=language, text=text, confidence=1.0)],
                    ),
                    stt.SpeechEvent(type=stt.SpeechEventType.END_OF_SPEECH),
                    stt.SpeechEvent(
                        type=stt.SpeechEventType.RECOGNITION_USAGE,
                        recognition_usage=stt.RecognitionUsage(audio_duration=speech),
                    ),
                ):
                    self._event_ch.send_nowait(event)
                speech = 0.0


# -- TTS -----------------------------------------------------------------------------------


class FakeTTS(tts.TTS):
    """First audio ``ttfb`` seconds after the request; ``fail_after`` requests then outages."""

    def __init__(
        self,
        *,
        ttfb: float = 0.15,
        audio_seconds: float = 0.2,
        fail_after: int | None = None,
        name: str = "fake-tts",
    ) -> None:
        super().__init__(
            capabilities=tts.TTSCapabilities(streaming=False),
            sample_rate=SAMPLE_RATE,
            num_channels=1,
        )
        self.ttfb = ttfb
        self.audio_seconds = audio_seconds
        self.fail_after = fail_after
        self.requests: list[str] = []
        self._name = name

    @property
    def model(self) -> str:
        return self._name

    @property
    def provider(self) -> str:
        return "fake"

    def synthesize(
        self, text: str, *, conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS
    ) -> tts.ChunkedStream:
        return _FakeChunkedStream(tts=self, input_text=text, conn_options=conn_options)


class _FakeChunkedStream(tts.ChunkedStream):
    async def _run(self, output_emitter: tts.AudioEmitter) -> None:
        fake = self._tts
        assert isinstance(fake, FakeTTS)
        fake.requests.append(self.input_text)
        if fake.fail_after is not None and len(fake.requests) > fake.fail_after:
            raise APIConnectionError(f"{fake.model} is down", retryable=False)
        output_emitter.initialize(
            request_id=f"{fake.model}-{len(fake.requests)}",
            sample_rate=SAMPLE_RATE,
            num_channels=1,
            mime_type="audio/pcm",
            frame_size_ms=FRAME_MS,
        )
        await asyncio.sleep(fake.ttfb)
        chunk = b"\x10\x00" * SAMPLES
        for _ in range(max(1, int(fake.audio_seconds * 1000 / FRAME_MS))):
            output_emitter.push(chunk)
        output_emitter.flush()


# -- LLM -----------------------------------------------------------------------------------


class DelayedLLM(ReplyLLM):
    """Wraps a reply model (the offline brain) with a fixed time to first token per request."""

    def __init__(
        self, inner: ReplyLLM, *, ttft: float = 0.2, fail_after: int | None = None
    ) -> None:
        super().__init__(model=f"delayed-{inner.model}", provider="fake")
        self.inner = inner
        self.ttft = ttft
        self.fail_after = fail_after
        self.request_times: list[float] = []

    async def reply(self, chat_ctx: ChatContext) -> LLMReply:
        self.request_times.append(time.perf_counter())
        if self.fail_after is not None and len(self.request_times) > self.fail_after:
            raise APIConnectionError(f"{self.model} is down", retryable=False)
        await asyncio.sleep(self.ttft)
        return await self.inner.reply(chat_ctx)


# -- audio I/O -----------------------------------------------------------------------------


class FakeAudioInput(AudioInput):
    """The caller's microphone: frames put on a queue by :class:`FakeCaller`."""

    def __init__(self) -> None:
        super().__init__(label="fake-caller")
        self.queue: asyncio.Queue[rtc.AudioFrame] = asyncio.Queue()

    async def __anext__(self) -> rtc.AudioFrame:
        return await self.queue.get()


class FakeAudioOutput(AudioOutput):
    """The caller's ear: records when each reply's first frame arrives; plays out instantly."""

    def __init__(self) -> None:
        super().__init__(
            label="fake-speaker",
            capabilities=AudioOutputCapabilities(pause=True),  # like LiveKit's room output
            sample_rate=SAMPLE_RATE,
        )
        self.first_frame_at: list[float] = []  # perf_counter of each segment's first frame
        self.frames = 0
        self._segment_open = False
        self._segment_seconds = 0.0
        self.new_segment = asyncio.Event()

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if not self._segment_open:
            self._segment_open = True
            self._segment_seconds = 0.0
            self.first_frame_at.append(time.perf_counter())
            self.on_playback_started(created_at=time.time())
            self.new_segment.set()
        self.frames += 1
        self._segment_seconds += _duration(frame)

    def flush(self) -> None:
        super().flush()
        if self._segment_open:
            self._segment_open = False
            played = self._segment_seconds
            asyncio.get_running_loop().call_soon(
                lambda: self.on_playback_finished(playback_position=played, interrupted=False)
            )

    def clear_buffer(self) -> None:
        if self._segment_open:
            self._segment_open = False
            self.on_playback_finished(playback_position=self._segment_seconds, interrupted=True)


@dataclass
class TurnTiming:
    text: str
    end_of_utterance: float  # perf_counter when the last loud frame was delivered
    first_audio: float | None  # perf_counter of the reply's first audio frame
    llm_requests: int = 0  # LLM requests started between the two (each pays the TTFT)

    @property
    def latency(self) -> float | None:
        return None if self.first_audio is None else self.first_audio - self.end_of_utterance


@dataclass
class FakeCaller:
    """Says each utterance into the session in real time and times the agent's reply."""

    utterances: list[str]
    speech_seconds: float = 0.4
    reply_timeout: float = 10.0
    transcripts: deque[str] = field(default_factory=deque)
    audio_in: FakeAudioInput = field(default_factory=FakeAudioInput)
    audio_out: FakeAudioOutput = field(default_factory=FakeAudioOutput)

    async def run(
        self, session: AgentSession[Any], *, llm_model: DelayedLLM | None = None
    ) -> list[TurnTiming]:
        speech_frames_left = 0
        last_loud_at = 0.0
        stop = asyncio.Event()

        async def pump() -> None:  # one 20 ms frame per 20 ms, on an absolute schedule
            nonlocal speech_frames_left, last_loud_at
            start, sent = time.perf_counter(), 0
            while not stop.is_set():
                loud = speech_frames_left > 0
                self.audio_in.queue.put_nowait(make_frame(loud))
                if loud:
                    speech_frames_left -= 1
                    last_loud_at = time.perf_counter()
                sent += 1
                delay = start + sent * FRAME_MS / 1000 - time.perf_counter()
                await asyncio.sleep(max(0.0, delay))

        listening = asyncio.Event()
        session.on(
            "agent_state_changed",
            lambda ev: listening.set() if ev.new_state == "listening" else listening.clear(),
        )
        pumping = asyncio.create_task(pump())
        timings: list[TurnTiming] = []
        try:
            await asyncio.sleep(0.3)  # let the greeting play
            await self._wait_listening(session, listening)
            for text in self.utterances:
                segments_before = len(self.audio_out.first_frame_at)
                requests_before = len(llm_model.request_times) if llm_model else 0
                self.transcripts.append(text)
                self.audio_out.new_segment.clear()
                speech_frames_left = int(self.speech_seconds * 1000 / FRAME_MS)
                while speech_frames_left > 0:
                    await asyncio.sleep(FRAME_MS / 1000)
                await asyncio.sleep(FRAME_MS / 1000)
                end_of_utterance = last_loud_at
                first_audio = await self._first_audio(segments_before)
                requests = 0
                if llm_model is not None and first_audio is not None:
                    requests = sum(
                        1
                        for t in llm_model.request_times[requests_before:]
                        if end_of_utterance <= t <= first_audio
                    )
                timings.append(TurnTiming(text, end_of_utterance, first_audio, requests))
                await asyncio.sleep(0.05)
                await self._wait_listening(session, listening)
        finally:
            stop.set()
            await pumping
        return timings

    async def _first_audio(self, segments_before: int) -> float | None:
        deadline = time.perf_counter() + self.reply_timeout
        while len(self.audio_out.first_frame_at) <= segments_before:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return None
            self.audio_out.new_segment.clear()
            try:
                await asyncio.wait_for(self.audio_out.new_segment.wait(), remaining)
            except TimeoutError:
                return None
        return self.audio_out.first_frame_at[segments_before]

    async def _wait_listening(self, session: AgentSession[Any], listening: asyncio.Event) -> None:
        if session.agent_state == "listening":
            return
        try:
            await asyncio.wait_for(listening.wait(), self.reply_timeout)
        except TimeoutError:
            return
