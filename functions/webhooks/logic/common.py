"""Helpers every provider adapter shares: tenant and secret lookup, constant-time
comparison, JSON parsing, schema validation, freshness windows."""

from __future__ import annotations

import hmac
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from atende_shared.errors import MalformedRequest, ValidationFailed
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.tenant_secrets import Integration, SecretReader
from functions.webhooks.logic.delivery import Delivery
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


def matches_any(presented: str, candidates: Iterable[str]) -> bool:
    """Constant-time comparison against every candidate (no early exit on a match)."""
    given = presented.encode("utf-8", "surrogatepass")
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogatepass"))
    return found


def parse_json(body: bytes) -> Any:
    """The body as JSON, or 400."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedRequest("request body is not valid JSON") from exc


def validate(model: type[M], data: Any, *, what: str) -> M:
    """``data`` as ``model``, or 422 naming each field at fault."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
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


def dedupe_window(context: AdapterContext) -> timedelta:
    """How old a body-dated delivery may be: as long as its dedupe record lives, so any
    replay we accept is still recognised as a duplicate."""
    return timedelta(seconds=context.settings.dedupe_ttl_seconds)
