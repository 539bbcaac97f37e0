"""Provider price table used to attribute a cost to each call.

Prices are list prices in USD as published by the providers (assumptions in
docs/billing.md); the platform bills in BRL cents, so costs are converted with a
configured exchange rate and rounded half-up to the cent once, at the end.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from pydantic import BaseModel, ConfigDict, Field


class ProviderPriceTable(BaseModel):
    """USD list prices per model; unknown models fall back to the defaults below."""

    model_config = ConfigDict(frozen=True)

    #: STT: USD per minute of streamed audio (Deepgram nova-3 streaming, pay-as-you-go).
    stt_per_minute_usd: dict[str, Decimal] = Field(
        default_factory=lambda: {"deepgram/nova-3": Decimal("0.0077")}
    )
    #: LLM: USD per 1M tokens, (input, output) (OpenAI gpt-4o-mini).
    llm_per_million_tokens_usd: dict[str, tuple[Decimal, Decimal]] = Field(
        default_factory=lambda: {"openai/gpt-4o-mini": (Decimal("0.15"), Decimal("0.60"))}
    )
    #: TTS: USD per 1M characters (OpenAI tts-1).
    tts_per_million_chars_usd: dict[str, Decimal] = Field(
        default_factory=lambda: {"openai/tts-1": Decimal("15.00")}
    )
    default_stt: str = "deepgram/nova-3"
    default_llm: str = "openai/gpt-4o-mini"
    default_tts: str = "openai/tts-1"
    usd_brl: Decimal = Field(Decimal("5.40"), gt=0)


def to_cents(brl: Decimal) -> int:
    """BRL → integer cents, half-up (the one rounding step of cost attribution)."""
    return int((brl * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))
