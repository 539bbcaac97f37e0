"""Asaas: header ``asaas-access-token`` equals the tenant's configured webhook token.

Events that do not move a balance are acknowledged (200 ``ignored``): a 4xx counts as a
failure for Asaas, and 15 in a row pause the tenant's whole webhook queue. A balance event
whose ``payment`` can never be credited (no id, a null or non-numeric value) is refused
with 422 naming the field, so the sender sees it instead of a 200 followed by a DLQ."""

from __future__ import annotations

from atende_shared.models.asaas import ASAAS_BALANCE_EVENTS, AsaasPayment
from atende_shared.ports.secrets import matches_any
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    parse_json,
    replay_window,
    require_fresh,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Ignored, Normalised
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
        event.date_created,
        context,
        max_age=replay_window(context, "asaas"),
        what="Asaas dateCreated",
    )
    if event.event not in ASAAS_BALANCE_EVENTS:
        return Ignored(f"Asaas {event.event} does not move a balance")
    validate(AsaasPayment, data.get("payment"), what="Asaas payment", prefix="payment")
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
