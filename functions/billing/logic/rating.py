"""Rating: a call's duration and the tenant's plan → billed seconds and amount. Pure.

Order of the rules (documented in docs/billing.md, tested exhaustively):

1. duration = end - start, fractional seconds rounded *up* (a started second counts);
2. the free ring/greeting window is subtracted from every call; a call that ends inside
   it costs nothing and no minimum applies;
3. the minimum billable seconds lift whatever is left;
4. rounding: per second, or each started minute (carriers);
5. included minutes of the call's month (tenant-local, month of the call's *start*) cover
   billed seconds first;
6. amount = payable seconds x price per minute / 60, half-up to the cent (integers only).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atende_shared.models.tenant import BillingPlan

_MINUTE = 60
_ONE_MICRO = timedelta(microseconds=1)


@dataclass(frozen=True)
class Rating:
    duration_seconds: int
    chargeable_seconds: int
    billed_seconds: int
    included_seconds: int
    payable_seconds: int
    amount_cents: int


def duration_seconds(start: datetime, end: datetime) -> int:
    """Whole seconds between two instants, a started second counting as one; never < 0."""
    micros = (end - start) // _ONE_MICRO
    if micros <= 0:
        return 0
    return -(-micros // 1_000_000)


def amount_for_seconds(seconds: int, price_per_minute_cents: int) -> int:
    """seconds x price / 60 rounded half-up, in integer arithmetic."""
    if seconds <= 0:
        return 0
    return (seconds * price_per_minute_cents * 2 + _MINUTE) // (2 * _MINUTE)


def round_billed(seconds: int, rounding: str) -> int:
    if rounding == "per_started_minute":
        return math.ceil(seconds / _MINUTE) * _MINUTE if seconds > 0 else 0
    return seconds


def rate_call(plan: BillingPlan, *, duration: int, included_used_seconds: int = 0) -> Rating:
    """Rate one call of ``duration`` seconds given the month's already-used allowance."""
    if duration < 0:
        raise ValueError("duration must be >= 0")
    chargeable = max(0, duration - plan.free_ring_seconds)
    if chargeable > 0:
        chargeable = max(chargeable, plan.minimum_billable_seconds)
    billed = round_billed(chargeable, plan.rounding)
    allowance_left = max(0, plan.included_minutes_per_month * _MINUTE - included_used_seconds)
    included = min(billed, allowance_left)
    payable = billed - included
    return Rating(
        duration_seconds=duration,
        chargeable_seconds=chargeable,
        billed_seconds=billed,
        included_seconds=included,
        payable_seconds=payable,
        amount_cents=amount_for_seconds(payable, plan.price_per_minute_cents),
    )


def minimum_charge_cents(plan: BillingPlan) -> int:
    """What the shortest billable call costs: used to flag reservations the balance cannot
    cover and to cap what a suspended tenant's (politely refused) call may cost."""
    seconds = round_billed(max(plan.minimum_billable_seconds, 1), plan.rounding)
    return amount_for_seconds(seconds, plan.price_per_minute_cents)


def reservation_cents(plan: BillingPlan) -> int:
    """The hold placed when a call starts: ``reservation_minutes`` at the plan's price."""
    return plan.reservation_minutes * plan.price_per_minute_cents


def usage_month(start: datetime, time_zone: str) -> str:
    """``YYYY-MM`` of ``start`` in the tenant's zone: included minutes reset at local
    midnight of the 1st, and a call belongs to the month it *started* in."""
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return start.astimezone(zone).strftime("%Y-%m")
