"""Helpers every provider adapter shares: tenant and secret lookup, JSON parsing, schema
validation, freshness windows, building the accepted envelope. (The constant-time secret
comparison is :func:`atende_shared.tenant_secrets.matches_any`.)"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from atende_shared.errors import MalformedRequest, ValidationFailed
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.models.envelope import InboundEvent
from atende_shared.ports.secrets import Integration, SecretReader
from atende_shared.resources import Queue
from functions.webhooks.logic.delivery import Accepted, Delivery
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.settings import IngressSettings

M = TypeVar("M", bound=BaseModel)
_TENANT = re.compile(TENANT_ID_PATTERN)


@dataclass(frozen=True)
class AdapterContext:
    """What a provider adapter may use: settings, the tenants' secrets, the time."""

    settings: IngressSettings
    secrets: SecretReader
    now: datetime


def require_tenant(delivery: Delivery) -> str:
    """The tenant of a tenant-scoped route. An impossible id is refused like an unknown
    tenant (401), so the answer never tells which tenants exist."""
    tenant = delivery.tenant_id
    if not tenant or not _TENANT.fullmatch(tenant):
        raise AuthFailure("invalid_tenant", f"{tenant!r} is not a tenant id")
    return tenant


def secret_candidates(
    context: AdapterContext, tenant_id: str, integration: Integration, field: str
) -> list[str]:
    """The values of a tenant's secret field that authenticate now (current, and previous
    within its rotation grace window). No secret → 401, never 404."""
    secret = context.secrets.get(tenant_id, integration)
    if secret is None:
        raise AuthFailure("no_secret", f"tenant {tenant_id} has no {integration} secret")
    values = secret.candidates(field, now=context.now)
    if not values:
        raise AuthFailure("no_secret", f"tenant {tenant_id} has no {integration}.{field}")
    return values


def parse_json(body: bytes) -> Any:
    """The body as JSON, or 400."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest("request body is not valid JSON") from exc


def validate(model: type[M], data: Any, *, what: str, prefix: str = "") -> M:
    """``data`` as ``model``, or 422 naming each field at fault (under ``prefix`` when
    ``data`` is a part of the body)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            {
                "field": ".".join([prefix] * bool(prefix) + [str(p) for p in err["loc"]])
                or "(body)",
                "problem": err["msg"],
            }
            for err in exc.errors(include_url=False, include_input=False)[:20]
        ]
        raise ValidationFailed(
            f"payload does not match the {what} schema", details={"fields": fields}
        ) from exc
    except RecursionError as exc:
        raise ValidationFailed(f"payload of {what} is nested too deeply") from exc


def require_fresh(
    moment: datetime, context: AdapterContext, *, max_age: timedelta, what: str
) -> None:
    """Refuse (401) a signed timestamp older than ``max_age`` or further in the future
    than the clock-skew tolerance: a replay, or a clock we cannot trust."""
    skew = timedelta(seconds=context.settings.webhook_tolerance_seconds)
    if moment < context.now - max_age:
        raise AuthFailure("stale", f"{what} {moment.isoformat()} is older than {max_age}")
    if moment > context.now + skew:
        raise AuthFailure("future", f"{what} {moment.isoformat()} is in the future")


def accepted(
    delivery: Delivery,
    context: AdapterContext,
    queue: Queue,
    *,
    tenant_id: str | None,
    event_id: str,
    type: str,
    occurred_at: datetime,
    payload: dict[str, Any],
    group_key: str | None = None,
) -> Accepted:
    """The delivery as an envelope for ``queue``: provider and correlation id from the
    delivery, received now. Raises pydantic's ``ValidationError`` for a field out of range
    (the pipeline answers 422)."""
    event = InboundEvent(
        tenant_id=tenant_id,
        provider=delivery.provider,
        provider_event_id=event_id,
        type=type,
        occurred_at=occurred_at,
        received_at=context.now,
        correlation_id=delivery.correlation_id,
        payload=payload,
    )
    return Accepted(event=event, queue=queue, group_key=group_key)


def replay_window(context: AdapterContext, provider: str) -> timedelta:
    """How old a body-dated delivery of ``provider`` may be: the provider's own retry and
    replay window (Asaas 14 days, Bling days), so an authentic replay is never refused;
    replay protection is the event-id dedupe, whose record outlives the window."""
    seconds = context.settings.replay_window_seconds(provider)
    return timedelta(seconds=seconds or context.settings.dedupe_ttl_seconds)
