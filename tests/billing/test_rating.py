"""Rating is a pure function: a table of plans and durations → billed seconds and cents."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from atende_shared.models.tenant import BillingPlan
from functions.billing.logic.rating import (
    amount_for_seconds,
    duration_seconds,
    minimum_charge_cents,
    rate_call,
    reservation_cents,
    usage_month,
)

PER_SECOND = BillingPlan(price_per_minute_cents=90, rounding="per_second")
PER_MINUTE = BillingPlan(price_per_minute_cents=90, rounding="per_started_minute")


@pytest.mark.parametrize(
    ("plan", "duration", "used", "billed", "included", "amount"),
    [
        # per second: 1.5 cents a second, half-up to the cent
        (PER_SECOND, 0, 0, 0, 0, 0),
        (PER_SECOND, 1, 0, 1, 0, 2),  # 1.5 → 2
        (PER_SECOND, 2, 0, 2, 0, 3),
        (PER_SECOND, 59, 0, 59, 0, 89),  # 88.5 → 89
        (PER_SECOND, 60, 0, 60, 0, 90),
        (PER_SECOND, 61, 0, 61, 0, 92),  # 91.5 → 92
        (PER_SECOND, 3_600, 0, 3_600, 0, 5_400),
        # per started minute (carriers): any started minute is a whole minute
        (PER_MINUTE, 0, 0, 0, 0, 0),
        (PER_MINUTE, 1, 0, 60, 0, 90),
        (PER_MINUTE, 60, 0, 60, 0, 90),
        (PER_MINUTE, 61, 0, 120, 0, 180),
        (PER_MINUTE, 119, 0, 120, 0, 180),
        (PER_MINUTE, 121, 0, 180, 0, 270),
        # minimum billable seconds lift short calls, not zero-length ones
        (PER_SECOND.model_copy(update={"minimum_billable_seconds": 30}), 0, 0, 0, 0, 0),
        (PER_SECOND.model_copy(update={"minimum_billable_seconds": 30}), 5, 0, 30, 0, 45),
        (PER_SECOND.model_copy(update={"minimum_billable_seconds": 30}), 45, 0, 45, 0, 68),
        (PER_MINUTE.model_copy(update={"minimum_billable_seconds": 90}), 10, 0, 120, 0, 180),
        # free ring/greeting window: subtracted from every call, a call inside it is free
        (PER_SECOND.model_copy(update={"free_ring_seconds": 10}), 10, 0, 0, 0, 0),
        (PER_SECOND.model_copy(update={"free_ring_seconds": 10}), 11, 0, 1, 0, 2),
        (PER_SECOND.model_copy(update={"free_ring_seconds": 10}), 70, 0, 60, 0, 90),
        (
            PER_SECOND.model_copy(update={"free_ring_seconds": 10, "minimum_billable_seconds": 30}),
            12,
            0,
            30,
            0,
            45,
        ),
        (PER_MINUTE.model_copy(update={"free_ring_seconds": 5}), 65, 0, 60, 0, 90),
        (PER_MINUTE.model_copy(update={"free_ring_seconds": 5}), 66, 0, 120, 0, 180),
        # included minutes: cover billed seconds first, then the rest is paid
        (PER_SECOND.model_copy(update={"included_minutes_per_month": 10}), 300, 0, 300, 300, 0),
        (PER_SECOND.model_copy(update={"included_minutes_per_month": 10}), 300, 500, 300, 100, 300),
        (PER_SECOND.model_copy(update={"included_minutes_per_month": 10}), 300, 600, 300, 0, 450),
        (PER_SECOND.model_copy(update={"included_minutes_per_month": 10}), 300, 9_999, 300, 0, 450),
        (PER_MINUTE.model_copy(update={"included_minutes_per_month": 1}), 61, 0, 120, 60, 90),
        # long calls: integers all the way, no overflow, no float drift
        (PER_SECOND, 7_200, 0, 7_200, 0, 10_800),
        (PER_MINUTE, 7_199, 0, 7_200, 0, 10_800),
        (BillingPlan(price_per_minute_cents=7), 86_399, 0, 86_399, 0, 10_080),  # 10079.88
        (BillingPlan(price_per_minute_cents=0), 600, 0, 600, 0, 0),
    ],
)
def test_rating_table(plan, duration, used, billed, included, amount):
    # Given a plan, a call duration and the month's used allowance
    # When the call is rated
    rating = rate_call(plan, duration=duration, included_used_seconds=used)
    # Then billed seconds, included seconds and the amount are exactly the table's
    assert (rating.billed_seconds, rating.included_seconds, rating.amount_cents) == (
        billed,
        included,
        amount,
    )
    assert rating.payable_seconds == billed - included


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-22T12:00:00+00:00", "2026-11-22T12:00:00+00:00", 0),
        ("2026-11-22T12:00:00+00:00", "2026-11-22T11:59:00+00:00", 0),  # clock skew: never < 0
        ("2026-11-22T12:00:00+00:00", "2026-11-22T12:00:00.001+00:00", 1),  # a started second
        ("2026-11-22T12:00:00+00:00", "2026-11-22T12:01:00+00:00", 60),
        ("2026-11-22T12:00:00+00:00", "2026-11-22T12:01:00.5+00:00", 61),
        # across midnight and across a month/year boundary: plain elapsed time
        ("2026-11-30T23:59:30+00:00", "2026-12-01T00:00:45+00:00", 75),
        ("2026-12-31T23:58:00-03:00", "2027-01-01T00:03:00-03:00", 300),
    ],
)
def test_duration_is_elapsed_whole_seconds(start, end, expected):
    assert duration_seconds(datetime.fromisoformat(start), datetime.fromisoformat(end)) == expected


@pytest.mark.parametrize(
    ("start", "zone", "month"),
    [
        ("2026-11-30T23:59:59+00:00", "UTC", "2026-11"),
        ("2026-12-01T00:00:00+00:00", "UTC", "2026-12"),
        # 01:00 UTC on the 1st is still the 30th in São Paulo (UTC-3): November's allowance
        ("2026-12-01T01:00:00+00:00", "America/Sao_Paulo", "2026-11"),
        ("2026-12-01T03:00:00+00:00", "America/Sao_Paulo", "2026-12"),
        ("2027-01-01T02:59:59+00:00", "America/Sao_Paulo", "2026-12"),
        ("2026-11-22T12:00:00+00:00", "Not/AZone", "2026-11"),  # unknown zone → UTC
    ],
)
def test_usage_month_is_the_local_month_of_the_start(start, zone, month):
    assert usage_month(datetime.fromisoformat(start), zone) == month


def test_a_call_across_month_end_uses_the_month_it_started_in():
    # Given a plan with 1 included minute and a call starting 23:59:30 local on Nov 30
    plan = PER_SECOND.model_copy(update={"included_minutes_per_month": 1})
    start = datetime(2026, 12, 1, 2, 59, 30, tzinfo=UTC)  # 23:59:30 in São Paulo
    end = start + timedelta(seconds=90)
    # When it is rated against November's (unused) allowance
    month = usage_month(start, "America/Sao_Paulo")
    rating = rate_call(plan, duration=duration_seconds(start, end), included_used_seconds=0)
    # Then November pays: 60 s included, 30 s charged
    assert month == "2026-11"
    assert (rating.included_seconds, rating.amount_cents) == (60, 45)


@pytest.mark.parametrize(
    ("plan", "minimum", "hold"),
    [
        (PER_SECOND, 2, 450),
        (PER_MINUTE, 90, 450),
        (PER_SECOND.model_copy(update={"minimum_billable_seconds": 60}), 90, 450),
        (PER_MINUTE.model_copy(update={"reservation_minutes": 10}), 90, 900),
    ],
)
def test_minimum_charge_and_reservation(plan, minimum, hold):
    assert minimum_charge_cents(plan) == minimum
    assert reservation_cents(plan) == hold


def test_negative_duration_is_refused():
    with pytest.raises(ValueError, match="duration"):
        rate_call(PER_SECOND, duration=-1)


@given(
    price=st.integers(0, 10_000),
    duration=st.integers(0, 10 * 3_600),
    used=st.integers(0, 100_000),
    rounding=st.sampled_from(["per_second", "per_started_minute"]),
    minimum=st.integers(0, 600),
    free=st.integers(0, 120),
    included=st.integers(0, 1_000),
)
def test_rating_properties(price, duration, used, rounding, minimum, free, included):
    plan = BillingPlan(
        price_per_minute_cents=price,
        rounding=rounding,
        minimum_billable_seconds=minimum,
        free_ring_seconds=free,
        included_minutes_per_month=included,
    )
    rating = rate_call(plan, duration=duration, included_used_seconds=used)
    # never negative; rounding only ever rounds up; included never exceeds the allowance left
    assert rating.amount_cents >= 0
    assert rating.billed_seconds >= rating.chargeable_seconds
    assert rating.included_seconds <= max(0, included * 60 - used)
    if rounding == "per_started_minute":
        assert rating.billed_seconds % 60 == 0
    # the amount is the exact half-up rounding of payable x price / 60
    exact = rating.payable_seconds * price / 60
    assert abs(rating.amount_cents - exact) <= 0.5
    assert rating.amount_cents == amount_for_seconds(rating.payable_seconds, price)
    # a longer call never costs less (monotonic in duration)
    longer = rate_call(plan, duration=duration + 1, included_used_seconds=used)
    assert longer.amount_cents >= rating.amount_cents
