"""Evolution API: the instance ``apikey`` comes in the body of every webhook (or in an
``apikey`` header when configured). It is removed from the payload before enqueueing: a
credential has no business in a queue. Only ``messages.upsert`` is ingested; ``fromMe``
echoes are dropped."""

from __future__ import annotations

from typing import Any

from atende_shared.errors import MalformedRequest
from atende_shared.ports.secrets import matches_any
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    parse_json,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Ignored, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.whatsapp import (
    EVOLUTION_MESSAGES_UPSERT,
    EvolutionMessage,
    EvolutionWebhook,
)

KEY_HEADER = "apikey"


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    header_key = delivery.header(KEY_HEADER)
    data: Any
    if header_key:
        presented: object = header_key
        data = None
    else:
        # The key is inside the body: a body we cannot read is an unauthenticated one (401),
        # so nobody learns anything without the key.
        try:
            data = parse_json(delivery.body)
        except MalformedRequest as exc:
            raise AuthFailure("missing_credentials", "body unreadable and no apikey") from exc
        presented = data.get("apikey") if isinstance(data, dict) else None
    if not isinstance(presented, str) or not presented:
        raise AuthFailure("missing_credentials", "no apikey in header or body")
    if not matches_any(presented, secret_candidates(context, tenant, "evolution", "apikey")):
        raise AuthFailure("bad_token", "apikey does not match")

    if data is None:
        data = parse_json(delivery.body)
    webhook = validate(EvolutionWebhook, data, what="Evolution API webhook")
    if webhook.normalised_event != EVOLUTION_MESSAGES_UPSERT:
        return Ignored(f"Evolution {webhook.event} is not an inbound message")
    message = validate(EvolutionMessage, webhook.data, what="Evolution messages.upsert data")
    if message.key.from_me:
        return Ignored(f"echo of our own message {message.key.id}")
    payload = {k: v for k, v in data.items() if k != "apikey"}
    return accepted(
        delivery,
        context,
        Queue.MESSAGING,
        tenant_id=tenant,
        event_id=message.key.id,
        type=EVOLUTION_MESSAGES_UPSERT,
        occurred_at=message.message_timestamp or webhook.date_time or context.now,
        payload=payload,
    )
