"""Deepgram's streaming protocol: the stand-in on the wire, then the REAL plugin against it.

Shapes from Deepgram's documentation (quoted in ``atende_local/stand_ins/deepgram_api.py``):
"Upon receiving the CloseStream message, the server will process all remaining audio data
and return ... {"type": "Metadata", "transaction_key": "deprecated", "request_id": ...,
"sha256": ..., "created": ..., "duration": ..., "channels": ...}" (Close Stream); "If no
audio data or KeepAlive messages are sent within a 10-second window, the connection will
close with a NET-0001 error" (Audio Keep Alive). What the plugin sends is
``livekit/plugins/deepgram/stt.py`` 1.8.9: ``Authorization: Token <key>``, the query from
``_connect_ws`` and ``KeepAlive`` / ``Finalize`` / ``CloseStream`` text frames.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
from livekit import rtc
from livekit.agents import stt
from livekit.agents.utils import http_context

from atende_local.stand_ins import StandIns
from atende_local.stand_ins.speech import synthesize
from tests.voice.helpers import run

pytestmark = pytest.mark.stand_ins

RATE = 16_000
QUERY = "model=nova-3&language=en-US&encoding=linear16&sample_rate=16000&channels=1"


def speech_then_silence(text: str, silence: float = 0.6) -> bytes:
    return synthesize(text, sample_rate=RATE) + b"\0" * int(RATE * silence) * 2


async def _send_paced(ws: aiohttp.ClientWebSocketResponse, pcm: bytes) -> None:
    chunk = RATE // 20 * 2  # 50 ms, as the plugin sends
    for i in range(0, len(pcm), chunk):
        await ws.send_bytes(pcm[i : i + chunk])
        await asyncio.sleep(0.005)


async def _drain(ws: aiohttp.ClientWebSocketResponse) -> list[dict[str, Any]]:
    out = []
    async for msg in ws:
        if msg.type == aiohttp.WSMsgType.TEXT:
            out.append(json.loads(msg.data))
    return out


def test_results_interim_and_final_then_closestream_answers_metadata(stand_ins: StandIns) -> None:
    # Given a raw websocket client speaking Deepgram's protocol with interim results on
    url = f"{stand_ins.deepgram_url}?{QUERY}&interim_results=true&vad_events=true&punctuate=true"

    async def body() -> list[dict[str, Any]]:
        async with (
            aiohttp.ClientSession() as http,
            http.ws_connect(url, headers={"Authorization": "Token k"}) as ws,
        ):
            # When it streams one sentence, a KeepAlive, then CloseStream
            await _send_paced(ws, speech_then_silence("two cokes please"))
            await ws.send_str(json.dumps({"type": "KeepAlive"}))
            await ws.send_str(json.dumps({"type": "CloseStream"}))
            return await _drain(ws)

    messages = run(body())
    kinds = [m["type"] for m in messages]
    # Then speech started, interim results came before the final, and Metadata came last
    assert kinds[0] == "SpeechStarted"
    results = [m for m in messages if m["type"] == "Results"]
    interims = [m for m in results if not m["is_final"]]
    finals = [m for m in results if m["is_final"]]
    assert interims
    assert results.index(interims[0]) < results.index(finals[0])
    assert [f["channel"]["alternatives"][0]["transcript"] for f in finals] == ["Two cokes please."]
    assert finals[0]["speech_final"] is True
    assert finals[0]["from_finalize"] is False
    words = finals[0]["channel"]["alternatives"][0]["words"]
    assert [w["word"] for w in words] == ["two", "cokes", "please"]
    assert words[-1]["punctuated_word"] == "please."
    assert all(w["start"] < w["end"] for w in words)
    assert kinds[-1] == "Metadata"
    meta = messages[-1]
    assert set(meta) == {
        "type",
        "transaction_key",
        "request_id",
        "sha256",
        "created",
        "duration",
        "channels",
    }
    assert meta["duration"] > 1.0
    assert meta["channels"] == 1
    [session] = stand_ins.deepgram.sessions
    assert session.client_messages == ["KeepAlive", "CloseStream"]
    assert session.closed_by == "CloseStream"


def test_keepalive_holds_an_idle_stream_open_and_silence_closes_it(stand_ins: StandIns) -> None:
    # Given a short idle window (Deepgram's is 10 s)
    stand_ins.deepgram.idle_timeout = 0.5
    url = f"{stand_ins.deepgram_url}?{QUERY}"

    async def body() -> tuple[bool, int | None, str]:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(url, headers={"Authorization": "Token k"}) as kept:
                # When one client sends KeepAlive every 200 ms for 1.2 s
                for _ in range(6):
                    await kept.send_str(json.dumps({"type": "KeepAlive"}))
                    await asyncio.sleep(0.2)
                still_open = not kept.closed
            async with http.ws_connect(url, headers={"Authorization": "Token k"}) as idle:
                # And another sends nothing
                msg = await idle.receive(timeout=5)
                return still_open, idle.close_code, str(msg.extra or "")

    try:
        still_open, code, reason = run(body())
    finally:
        stand_ins.deepgram.idle_timeout = 10.0
    # Then the first stayed open and the second was closed with NET-0001
    assert still_open
    assert code == 1011
    assert reason.startswith("NET-0001")


def test_a_bad_key_is_refused_at_the_handshake(stand_ins: StandIns) -> None:
    async def body() -> int:
        async with aiohttp.ClientSession() as http:
            try:
                await http.ws_connect(f"{stand_ins.deepgram_url}?{QUERY}")
            except aiohttp.WSServerHandshakeError as exc:
                return exc.status
        return 0

    assert run(body()) == 401


def _frames(pcm: bytes) -> list[rtc.AudioFrame]:
    n = RATE // 50  # 20 ms
    return [
        rtc.AudioFrame(pcm[i : i + 2 * n], RATE, 1, len(pcm[i : i + 2 * n]) // 2)
        for i in range(0, len(pcm) - 2 * n + 1, 2 * n)
    ]


def test_the_real_deepgram_plugin_transcribes_through_the_stand_in(stand_ins: StandIns) -> None:
    # Given the real deepgram.STT pointed at the stand-in by base URL
    from livekit.plugins import deepgram

    model = deepgram.STT(
        model="nova-3",
        language="en-US",
        api_key="stand-in-key",
        base_url=stand_ins.deepgram_url.replace("ws://", "http://"),
        interim_results=True,
        smart_format=True,
    )
    events: list[stt.SpeechEvent] = []

    async def body() -> None:
        async with http_context.open():  # what the worker's job context provides
            await transcribe()

    async def transcribe() -> None:
        stream = model.stream()

        async def collect() -> None:
            async for event in stream:
                events.append(event)

        collecting = asyncio.create_task(collect())
        # When the caller's audio is pushed in real-time-sized frames
        for frame in _frames(speech_then_silence("one garlic bread", silence=0.8)):
            stream.push_frame(frame)
            await asyncio.sleep(0.004)
        for _ in range(100):
            if any(e.type == stt.SpeechEventType.END_OF_SPEECH for e in events):
                break
            await asyncio.sleep(0.05)
        stream.end_input()
        await asyncio.wait_for(collecting, 10)
        await stream.aclose()
        await model.aclose()

    run(body())
    kinds = [e.type for e in events]
    finals = [
        e.alternatives[0].text for e in events if e.type == stt.SpeechEventType.FINAL_TRANSCRIPT
    ]
    # Then the plugin parsed start, interim, final and end of speech from the stand-in
    assert kinds[0] == stt.SpeechEventType.START_OF_SPEECH
    assert stt.SpeechEventType.INTERIM_TRANSCRIPT in kinds
    assert finals == ["One garlic bread."]
    assert stt.SpeechEventType.END_OF_SPEECH in kinds
    # And it opened the socket with its documented query and closed it with CloseStream
    [session] = stand_ins.deepgram.sessions
    params = session.params
    assert params["encoding"] == "linear16"
    assert params["sample_rate"] == "16000"
    assert params["model"] == "nova-3"
    assert params["interim_results"] == "true"
    assert session.client_messages[-1] == "CloseStream"
