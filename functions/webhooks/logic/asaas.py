"""Asaas: header ``asaas-access-token`` equals the tenant's configured webhook token."""

from __future__ import annotations

from atende_shared.ports.secrets import matches_any
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    dedupe_window,
    parse_json,
    require_fresh,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.asaas import AsaasWebhook

TOKEN_HEADER = "asaas-access-token"  # noqa: S105 (a header name)


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    token = delivery.header(TOKEN_HEADER)
    if not token:
        raise AuthFailure("missing_header", f"no {TOKEN_HEADER}")
    if not matches_any(token, secret_candidates(context, tenant, "asaas", "webhook_token")):
        raise AuthFailure("bad_token", "access token does not match")

    data = parse_json(delivery.body)
    event = validate(AsaasWebhook, data, what="Asaas webhook")
    require_fresh(
        event.date_created, context, max_age=dedupe_window(context), what="Asaas dateCreated"
    )
    return accepted(
        delivery,
        context,
        Queue.PAYMENTS,
        tenant_id=tenant,
        event_id=event.id,
        type=event.event,
        occurred_at=event.date_created,
        payload=data,
    )
