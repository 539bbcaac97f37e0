"""The worker's environment, validated once at start-up.

Composed from the shared mixins (tables, bus, bucket, LiveKit) plus the agent's own knobs.
Provider keys are optional: without ``OPENAI_API_KEY`` the offline brain answers; without
``DEEPGRAM_API_KEY`` the OpenAI transcriber is the only STT (and without either key the
worker can only serve text sessions — it says so at start-up).
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from atende_shared.settings import (
    ArtifactsBucketSettings,
    EventBusSettings,
    LiveKitSettings,
    MainTableSettings,
    ServiceSettings,
)


class ProviderSettings(LiveKitSettings):
    """Model providers and the models the pipeline uses (each with a fallback)."""

    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    deepgram_api_key: SecretStr | None = Field(None, validation_alias="DEEPGRAM_API_KEY")
    #: Where the providers are (unset: the real APIs); the local stand-ins set these
    #: (``atende_local.stand_ins``: ``StandIns.env()``).
    openai_base_url: str | None = Field(None, validation_alias="OPENAI_BASE_URL")
    deepgram_base_url: str = Field(
        "https://api.deepgram.com/v1/listen", validation_alias="DEEPGRAM_BASE_URL"
    )
    llm_model: str = Field("gpt-4o-mini", validation_alias="ATENDE_LLM_MODEL")
    llm_fallback_model: str = Field("gpt-4.1-mini", validation_alias="ATENDE_LLM_FALLBACK_MODEL")
    tts_model: str = Field("gpt-4o-mini-tts", validation_alias="ATENDE_TTS_MODEL")
    tts_fallback_model: str = Field("tts-1", validation_alias="ATENDE_TTS_FALLBACK_MODEL")
    stt_model: str = Field("nova-3", validation_alias="ATENDE_STT_MODEL")
    stt_fallback_model: str = Field(
        "gpt-4o-mini-transcribe", validation_alias="ATENDE_STT_FALLBACK_MODEL"
    )
    llm_attempt_timeout_seconds: float = Field(
        4.0, validation_alias="ATENDE_LLM_ATTEMPT_TIMEOUT_SECONDS", gt=0
    )

    @property
    def has_openai(self) -> bool:
        return self.openai_api_key is not None and bool(self.openai_api_key.get_secret_value())

    @property
    def has_deepgram(self) -> bool:
        return self.deepgram_api_key is not None and bool(self.deepgram_api_key.get_secret_value())


class VoiceSettings(
    ServiceSettings, MainTableSettings, EventBusSettings, ArtifactsBucketSettings, ProviderSettings
):
    """Everything the worker reads from its environment."""

    menu_cache_ttl_seconds: float = Field(
        30.0, validation_alias="ATENDE_MENU_CACHE_TTL_SECONDS", ge=0
    )
    drain_timeout_seconds: int = Field(
        1_200, validation_alias="ATENDE_DRAIN_TIMEOUT_SECONDS", ge=0, le=3_600
    )
    metrics_namespace: str = Field("Atende", validation_alias="POWERTOOLS_METRICS_NAMESPACE")
    health_port: int = Field(8081, validation_alias="ATENDE_AGENT_HEALTH_PORT", ge=0, le=65_535)
    #: The tenant ``python -m voice_fargate console`` talks as (no dispatch metadata there).
    console_tenant: str = Field("demo-pizzaria", validation_alias="ATENDE_CONSOLE_TENANT")
    #: Set by ECS in every task; enables scale-in protection while calls are live.
    ecs_agent_uri: str | None = Field(None, validation_alias="ECS_AGENT_URI")
