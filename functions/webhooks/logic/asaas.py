"""Asaas: header ``asaas-access-token`` equals the tenant's configured webhook token."""

from __future__ import annotations

from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    dedupe_window,
    matches_any,
    parse_json,
    require_fresh,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Accepted, Delivery, Normalised
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
    return Accepted(
        event=InboundEvent(
            tenant_id=tenant,
            provider=Provider.ASAAS,
            provider_event_id=event.id,
            type=event.event,
            occurred_at=event.date_created,
            received_at=context.now,
            correlation_id=delivery.correlation_id,
            payload=data,
        ),
        queue=Queue.PAYMENTS,
    )
