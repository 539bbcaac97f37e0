"""Whether a call may take orders: tenant status and business hours.

A suspended or closed tenant, or a call outside the tenant's opening hours (in its own
time zone) when its after-hours behaviour is not "take orders anyway", gets a polite
message and no order. No opening hours declared means always open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atende_shared.models.tenant import AfterHoursBehaviour, AgentConfig, Tenant, TenantStatus
from atende_shared.ordering.prompts import lang_of, text
from voice_fargate.state import Outcome

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Refusal:
    outcome: Outcome
    message: str


def is_open(tenant: Tenant, now: datetime) -> bool:
    """True when ``now`` falls inside one of the tenant's windows (local time)."""
    if not tenant.opening_hours:
        return True
    try:
        zone = ZoneInfo(tenant.time_zone)
    except ZoneInfoNotFoundError:
        zone = ZoneInfo("America/Sao_Paulo")
    local = now.astimezone(zone)
    day = _WEEKDAYS[local.weekday()]
    clock = local.time().replace(tzinfo=None)
    return any(w.day.value == day and w.opens <= clock < w.closes for w in tenant.opening_hours)


def _today_hours(tenant: Tenant, now: datetime, lang: str) -> str:
    try:
        local = now.astimezone(ZoneInfo(tenant.time_zone))
    except ZoneInfoNotFoundError:
        return ""
    day = _WEEKDAYS[local.weekday()]
    windows = [w for w in tenant.opening_hours if w.day.value == day]
    if not windows:
        return ""
    first = min(windows, key=lambda w: w.opens)
    last = max(windows, key=lambda w: w.closes)
    return text(
        "hours_today",
        lang_of(lang),
        opens=first.opens.strftime("%H:%M"),
        closes=last.closes.strftime("%H:%M"),
    )


def check_admission(tenant: Tenant, config: AgentConfig, now: datetime) -> Refusal | None:
    """None when the call may take orders, else the polite refusal to say."""
    lang = lang_of(config.language)
    if tenant.status is not TenantStatus.ACTIVE:
        return Refusal("refused_suspended", text("suspended", lang, business=tenant.name))
    if is_open(tenant, now) or config.after_hours is AfterHoursBehaviour.TAKE_ORDERS_ANYWAY:
        return None
    if config.after_hours is AfterHoursBehaviour.TAKE_MESSAGE:
        message = text("closed_hours_message", lang, business=tenant.name)
    else:
        message = text(
            "closed_hours",
            lang,
            business=tenant.name,
            hours=_today_hours(tenant, now, config.language),
        )
    return Refusal("refused_after_hours", message)
