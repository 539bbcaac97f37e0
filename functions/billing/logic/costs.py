"""Cost attribution: what a call's STT, LLM and TTS usage cost, in BRL cents. Pure."""

from __future__ import annotations

from decimal import Decimal
from typing import TypeVar

from atende_shared.events import CallUsageReported
from functions.billing.models.pricing import ProviderPriceTable, to_cents
from functions.billing.models.session import UsageCost

V = TypeVar("V")
_MILLION = Decimal(1_000_000)


def _lookup(table: dict[str, V], model: str | None, default: str) -> V:
    """Exact ``provider/model`` first, then by bare model name, then the default model."""
    if model:
        if model in table:
            return table[model]
        bare = model.rsplit("/", 1)[-1]
        for name, price in table.items():
            if name.rsplit("/", 1)[-1] == bare:
                return price
    return table[default]


def price_usage(report: CallUsageReported, prices: ProviderPriceTable) -> UsageCost:
    """Price one usage report. Components are rounded for display; the total is rounded
    once from the exact sum, so it can differ from the sum of components by a cent."""
    models = report.models
    stt_rate = _lookup(prices.stt_per_minute_usd, models.get("stt"), prices.default_stt)
    llm_in, llm_out = _lookup(
        prices.llm_per_million_tokens_usd, models.get("llm"), prices.default_llm
    )
    tts_rate = _lookup(prices.tts_per_million_chars_usd, models.get("tts"), prices.default_tts)
    stt_usd = Decimal(str(report.stt_audio_seconds)) / 60 * stt_rate
    llm_usd = (report.llm_prompt_tokens * llm_in + report.llm_completion_tokens * llm_out) / (
        _MILLION
    )
    tts_usd = report.tts_characters * tts_rate / _MILLION
    fx = prices.usd_brl
    return UsageCost(
        stt_audio_seconds=report.stt_audio_seconds,
        llm_prompt_tokens=report.llm_prompt_tokens,
        llm_completion_tokens=report.llm_completion_tokens,
        tts_characters=report.tts_characters,
        models=dict(models),
        stt_cost_cents=to_cents(stt_usd * fx),
        llm_cost_cents=to_cents(llm_usd * fx),
        tts_cost_cents=to_cents(tts_usd * fx),
        cost_cents=to_cents((stt_usd + llm_usd + tts_usd) * fx),
        reported_at=report.occurred_at,
    )
