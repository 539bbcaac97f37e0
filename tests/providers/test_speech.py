"""The stand-ins' speech: espeak-ng audio that is real speech, recognition that comes from
the audio (English by pocketsphinx; Portuguese phone audio by template matching)."""

from __future__ import annotations

import asyncio
import audioop  # deprecated but present on 3.11: G.711 as on a SIP call
import json
from collections.abc import Iterator

import aiohttp
import openai
import pytest

from atende_local.stand_ins import StandIns, start_all
from atende_local.stand_ins.speech import (
    PhraseRecognizer,
    TemplateRecognizer,
    encode,
    resample,
    speech_seconds,
    synthesize,
    wav_bytes,
)
from tests.providers.conftest import PHRASES
from tests.voice.helpers import run

pytestmark = pytest.mark.stand_ins

PT_PHRASES = [
    "duas cocas",
    "uma pizza de calabresa grande",
    "é só isso",
    "sim, pode confirmar",
    "quero falar com um atendente",
    "pra entregar",
]


def phone(text: str, *, voice: str = "pt-br", wpm: int = 150) -> bytes:
    """``text`` as a caller's phone delivers it: 8 kHz, G.711 µ-law and back."""
    pcm = synthesize(text, voice=voice, sample_rate=8_000, words_per_minute=wpm)
    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def test_pocketsphinx_hears_each_phrase_and_nothing_in_silence(stand_ins: StandIns) -> None:
    recognizer = PhraseRecognizer(PHRASES)
    for phrase in PHRASES:
        pcm = synthesize(phrase, sample_rate=16_000)
        assert recognizer.recognize(pcm, 16_000).transcript == phrase
    assert recognizer.recognize(b"\0" * 32_000, 16_000).transcript == ""


def test_pocketsphinx_refuses_words_it_cannot_pronounce(stand_ins: StandIns) -> None:
    with pytest.raises(ValueError, match="calabresa"):
        PhraseRecognizer(["uma calabresa"])


def test_templates_recognise_portuguese_phone_audio_at_another_speed(stand_ins: StandIns) -> None:
    # Given templates rendered at espeak-ng's default speed, wideband
    recognizer = TemplateRecognizer(PT_PHRASES, voice="pt-br")
    # When each phrase arrives slower, through a phone codec, resampled to 48 kHz
    heard = [
        recognizer.recognize(resample(phone(p), 8_000, 48_000), 48_000).transcript
        for p in PT_PHRASES
    ]
    # Then each is matched to itself, and silence to nothing
    assert heard == PT_PHRASES
    assert recognizer.recognize(b"\0" * 16_000, 8_000).transcript == ""


def test_speech_formats_decode_to_the_same_speech(stand_ins: StandIns) -> None:
    import av

    pcm = synthesize("two cokes please", sample_rate=24_000)
    seconds = len(pcm) / 2 / 24_000
    assert speech_seconds(pcm, 24_000) > 0.6 * seconds
    for fmt in ("mp3", "flac", "wav"):
        import io

        with av.open(io.BytesIO(encode(pcm, 24_000, fmt))) as container:
            decoded = sum(f.samples for f in container.decode(audio=0)) / 24_000
        assert abs(decoded - seconds) < 0.1, fmt


@pytest.fixture(scope="module")
def portuguese(_stand_ins_session: StandIns) -> Iterator[StandIns]:
    """The stand-ins for a Portuguese tenant (skipped, like the English ones, without
    espeak-ng or pocketsphinx)."""
    with start_all(phrases=PT_PHRASES, voice="pt-br") as stand_ins:
        yield stand_ins


def test_a_portuguese_phone_caller_through_deepgram_and_the_transcription_endpoint(
    portuguese: StandIns,
) -> None:
    # Given the stand-ins started for a Portuguese tenant (template recognition)
    caller = resample(phone("quero falar com um atendente"), 8_000, 16_000)
    url = (
        f"{portuguese.deepgram_url}?model=nova-3&language=pt-BR&encoding=linear16"
        "&sample_rate=16000&channels=1&interim_results=true"
    )

    async def body() -> tuple[list[dict[str, object]], str]:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(url, headers={"Authorization": "Token k"}) as ws:
                # When the phone audio is streamed to Deepgram's websocket
                audio = caller + b"\0" * 16_000
                for i in range(0, len(audio), 1_600):
                    await ws.send_bytes(audio[i : i + 1_600])
                    await asyncio.sleep(0.002)
                await ws.send_str(json.dumps({"type": "CloseStream"}))
                messages = [
                    json.loads(m.data) async for m in ws if m.type == aiohttp.WSMsgType.TEXT
                ]
            # And the same audio is posted to the transcription endpoint
            client = openai.AsyncClient(base_url=portuguese.openai_url, api_key="k")
            result = await client.audio.transcriptions.create(
                model="gpt-4o-mini-transcribe",
                file=("f.wav", wav_bytes(phone("duas cocas"), 8_000), "audio/wav"),
                language="pt",
            )
            await client.close()
            return messages, result.text

    messages, transcribed = run(body())
    finals = [m for m in messages if m["type"] == "Results" and m["is_final"]]
    # Then both heard the phrase that was said
    assert [f["channel"]["alternatives"][0]["transcript"] for f in finals] == [  # type: ignore[index]
        "quero falar com um atendente"
    ]
    assert transcribed == "duas cocas"
    # And the speech endpoint speaks Portuguese for this tenant
    assert portuguese.openai.voice == "pt-br"
