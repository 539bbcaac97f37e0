"""Cost attribution (provider price table) and monthly statements."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from atende_shared.errors import ValidationFailed
from functions.billing.logic.costs import price_usage
from functions.billing.logic.credits import credit
from functions.billing.logic.jobs import build_statement, period_bounds, previous_period
from functions.billing.models.pricing import ProviderPriceTable
from tests.billing.builders import usage_report
from tests.billing.conftest import TENANT, tenant
from tests.billing.fakes import Clock, make_deps


def test_usage_is_priced_with_the_default_table():
    # Given 3 min of STT, 20k/1k LLM tokens and 2k TTS characters at the default prices
    cost = price_usage(usage_report(TENANT, "room"), ProviderPriceTable())
    # Then (USD x 5.40, half-up to the cent): STT 0.0231 → 12, LLM 0.0036 → 2,
    # TTS 0.03 → 16, total 0.0567 → 30.618 → 31 (rounded once from the exact sum)
    assert (cost.stt_cost_cents, cost.llm_cost_cents, cost.tts_cost_cents) == (12, 2, 16)
    assert cost.cost_cents == 31


def test_unknown_models_fall_back_by_bare_name_then_default():
    prices = ProviderPriceTable(
        llm_per_million_tokens_usd={
            "openai/gpt-4o-mini": (Decimal("0.15"), Decimal("0.60")),
            "openai/gpt-4o": (Decimal("2.50"), Decimal("10.00")),
        },
        usd_brl=Decimal("1"),
    )
    report = usage_report(
        TENANT,
        "room",
        stt_audio_seconds=0.0,
        tts_characters=0,
        llm_prompt_tokens=1_000_000,
        llm_completion_tokens=0,
        models={"llm": "azure/gpt-4o"},
    )
    assert price_usage(report, prices).cost_cents == 250  # matched by bare name
    unknown = report.model_copy(update={"models": {"llm": "mystery/llm"}})
    assert price_usage(unknown, prices).cost_cents == 15  # the default model's price


def test_statement_has_opening_and_closing_balances_in_the_tenant_month():
    clock = Clock(datetime(2026, 10, 15, 12, tzinfo=UTC))
    deps = make_deps([tenant()], clock=clock)
    credit(TENANT, 10_000, "october", "admin", "oct", deps=deps)
    # 02:00 UTC on Nov 1st is still October 31st in São Paulo
    clock.now = datetime(2026, 11, 1, 2, tzinfo=UTC)
    credit(TENANT, 500, "late october", "admin", "oct-late", deps=deps)
    clock.now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    credit(TENANT, -1_200, "adjustment", "admin", "nov", deps=deps)
    credit(TENANT, 300, "bonus", "admin", "nov-2", deps=deps)

    csv_text, summary = build_statement(deps, deps.tenants.get_tenant(TENANT), "2026-11")

    assert (summary["opening_balance_cents"], summary["closing_balance_cents"]) == (10_500, 9_600)
    assert (summary["credits_cents"], summary["debits_cents"], summary["entries"]) == (
        300,
        1_200,
        2,
    )
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert [int(r["amount_cents"]) for r in rows] == [-1_200, 300]
    assert rows[-1]["balance_after_cents"] == "9600"


@pytest.mark.parametrize(
    ("now", "period"),
    [
        (datetime(2026, 12, 1, 4, tzinfo=UTC), "2026-11"),
        (datetime(2027, 1, 1, 4, tzinfo=UTC), "2026-12"),
    ],
)
def test_the_job_defaults_to_last_month(now, period):
    assert previous_period(now) == period


def test_period_bounds_are_local_months_and_bad_periods_refused():
    start, end = period_bounds("2026-12", "America/Sao_Paulo")
    assert start.astimezone(UTC) == datetime(2026, 12, 1, 3, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2027, 1, 1, 3, tzinfo=UTC)
    with pytest.raises(ValidationFailed):
        period_bounds("2026-13", "UTC")


def test_price_table_can_be_configured(monkeypatch):
    from atende_shared.settings import reset_settings_cache
    from functions.billing.handlers.deps import price_table
    from functions.billing.settings import BillingSettings

    monkeypatch.setenv("ATENDE_MAIN_TABLE", "main-table")
    monkeypatch.setenv("ATENDE_IDEMPOTENCY_TABLE", "idem-table")
    monkeypatch.setenv("ATENDE_EVENT_BUS", "bus")
    monkeypatch.setenv("ATENDE_BILLING_USD_BRL_RATE", "5.00")
    monkeypatch.setenv(
        "ATENDE_BILLING_PRICE_TABLE", '{"tts_per_million_chars_usd": {"openai/tts-1": "30"}}'
    )
    reset_settings_cache()
    table = price_table(BillingSettings())
    assert table.usd_brl == Decimal("5.00")
    assert table.tts_per_million_chars_usd == {"openai/tts-1": Decimal("30")}
    assert table.stt_per_minute_usd == {"deepgram/nova-3": Decimal("0.0077")}  # default kept
    reset_settings_cache()
