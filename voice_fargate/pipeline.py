"""The audio pipeline: each stage behind the framework's ``FallbackAdapter``, built lazily.

* LLM: OpenAI ``ATENDE_LLM_MODEL`` → OpenAI ``ATENDE_LLM_FALLBACK_MODEL`` → the offline
  brain (the brain alone when no ``OPENAI_API_KEY``): callers are served when OpenAI is down.
* STT: Deepgram streaming (``nova-3``, the tenant's language, pt-BR by default) → OpenAI
  transcription behind VAD (``StreamAdapter``); whichever keys exist.
* TTS: OpenAI ``gpt-4o-mini-tts`` → OpenAI ``tts-1`` (a second model, as the seed system did).
* VAD: Silero, loaded once per worker process (``prewarm``); it works offline.
* Turn detection: VAD-based (``turn_detection="vad"``). The multilingual turn-detector
  model is not part of the pinned install and needs a model download, so it is not used;
  endpointing delays are tuned instead (:data:`TURN_HANDLING`).

Provider plugins raise without keys, so nothing here runs at import and every client is
built only when a call needs it.
"""

from __future__ import annotations

from typing import Any

from livekit.agents import llm, stt, tts, vad
from livekit.agents.types import NOT_GIVEN, NotGivenOr

from voice_fargate.settings import ProviderSettings

#: VAD-based turns; 0.4 s of silence ends a turn (phone callers pause briefly mid-order).
TURN_HANDLING: dict[str, Any] = {
    "turn_detection": "vad",
    "endpointing": {"min_delay": 0.4, "max_delay": 2.5},
    "interruption": {"mode": "vad", "min_duration": 0.5},
}


def _key(secret: Any) -> str:
    return str(secret.get_secret_value()) if secret is not None else ""


def _url(settings: ProviderSettings) -> NotGivenOr[str]:
    """The OpenAI base URL when one is configured (else the plugin's default)."""
    return settings.openai_base_url or NOT_GIVEN


def load_vad() -> vad.VAD:
    """Silero VAD at the telephone sample rate's friend, 16 kHz (model ships in the wheel)."""
    from livekit.plugins import silero

    return silero.VAD.load(min_silence_duration=0.4)


def build_llm(settings: ProviderSettings, brain: llm.LLM) -> llm.LLM:
    """OpenAI models first, the offline brain last (or alone, without a key)."""
    if not settings.has_openai:
        return brain
    from livekit.plugins import openai

    key, url = _key(settings.openai_api_key), _url(settings)
    return llm.FallbackAdapter(
        [
            openai.LLM(model=settings.llm_model, api_key=key, temperature=0.3, base_url=url),
            openai.LLM(
                model=settings.llm_fallback_model, api_key=key, temperature=0.3, base_url=url
            ),
            brain,
        ],
        attempt_timeout=settings.llm_attempt_timeout_seconds,
    )


def build_tts(settings: ProviderSettings, *, voice: str) -> tts.TTS | None:
    """Two OpenAI TTS models behind a fallback (None without a key: text only)."""
    if not settings.has_openai:
        return None
    from livekit.plugins import openai

    key, url = _key(settings.openai_api_key), _url(settings)
    return tts.FallbackAdapter(
        [
            openai.TTS(model=settings.tts_model, voice=voice, api_key=key, base_url=url),
            openai.TTS(model=settings.tts_fallback_model, voice=voice, api_key=key, base_url=url),
        ]
    )


def build_stt(settings: ProviderSettings, *, language: str, vad_model: vad.VAD) -> stt.STT | None:
    """Deepgram streaming first, OpenAI transcription (behind VAD) second."""
    instances: list[stt.STT] = []
    if settings.has_deepgram:
        from livekit.plugins import deepgram

        instances.append(
            deepgram.STT(
                model=settings.stt_model,
                language=language,
                api_key=_key(settings.deepgram_api_key),
                base_url=settings.deepgram_base_url,
                interim_results=True,
                smart_format=True,
            )
        )
    if settings.has_openai:
        from livekit.plugins import openai

        whisper = openai.STT(
            model=settings.stt_fallback_model,
            language=language.split("-")[0],
            api_key=_key(settings.openai_api_key),
            base_url=_url(settings),
        )
        instances.append(stt.StreamAdapter(stt=whisper, vad=vad_model))
    if not instances:
        return None
    if len(instances) == 1:
        return instances[0]
    return stt.FallbackAdapter(instances, vad=vad_model)


def offline_parts(settings: ProviderSettings) -> list[str]:
    """Which stages run without a provider (said once at worker start-up)."""
    parts = []
    if not settings.has_openai:
        parts += ["llm: offline brain only (no OPENAI_API_KEY)", "tts: none (no OPENAI_API_KEY)"]
    if not settings.has_deepgram and not settings.has_openai:
        parts.append("stt: none (no DEEPGRAM_API_KEY / OPENAI_API_KEY)")
    return parts
