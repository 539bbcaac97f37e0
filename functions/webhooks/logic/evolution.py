"""Evolution API: the instance ``apikey`` comes in an ``apikey`` header (v2; its body then
carries ``"apikey": null``) or in the body (v1, or v2 exposing it). It is removed from the
payload before enqueueing: a credential has no business in a queue. Only
``messages.upsert`` is ingested (also spelled ``MESSAGES_UPSERT``, and posted to
``.../<tenant>/messages-upsert`` with ``webhook_by_events``); ``fromMe`` messages are
forwarded (the conversation handler tells our echoes from a person's takeover).
The message is read with the shared :mod:`atende_shared.models.whatsapp_inbound`."""

from __future__ import annotations

from typing import Any

from atende_shared.errors import MalformedRequest, ValidationFailed
from atende_shared.models.whatsapp_inbound import evolution_event_name, from_evolution
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
from functions.webhooks.models.whatsapp import EVOLUTION_MESSAGES_UPSERT, EvolutionWebhook

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
    if evolution_event_name(webhook.event) != EVOLUTION_MESSAGES_UPSERT:
        return Ignored(f"Evolution {webhook.event} is not an inbound message")
    message = from_evolution(data)
    if message is None:
        raise ValidationFailed(
            "messages.upsert without a message",
            details={"fields": [{"field": "data.key", "problem": "id and remoteJid required"}]},
        )
    payload = {k: v for k, v in data.items() if k != "apikey"}
    return accepted(
        delivery,
        context,
        Queue.MESSAGING,
        tenant_id=tenant,
        group_key=message.chat_id,
        event_id=message.message_id,
        type=EVOLUTION_MESSAGES_UPSERT,
        occurred_at=message.at or webhook.date_time or context.now,
        payload=payload,
    )
