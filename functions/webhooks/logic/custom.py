"""Custom integrations: Standard Webhooks (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256("{id}.{ts}.{body}")>``, several space-separated
signatures allowed). Every current signing secret of the tenant is tried, so a sender
mid-rotation (signing with both) and a tenant mid-rotation (previous secret in its grace
window) both get through."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from atende_shared.errors import ValidationFailed
from atende_shared.observability import logger
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    parse_json,
    require_fresh,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.custom import CustomEvent

ID_HEADER = "webhook-id"
_WEBHOOK_ID = re.compile(r"^[\x21-\x7e]{1,256}$")
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"

#: Event type prefix → queue. Anything else is refused with 422.
ROUTES: tuple[tuple[str, Queue], ...] = (
    ("catalog.", Queue.CATALOG),
    ("stock.", Queue.CATALOG),
    ("order.", Queue.CATALOG),
    ("payment.", Queue.PAYMENTS),
    ("message.", Queue.MESSAGING),
)


def queue_for(event_type: str) -> Queue | None:
    for prefix, queue in ROUTES:
        if event_type.startswith(prefix):
            return queue
    return None


def _verified(secret: str, body: bytes, headers: dict[str, str]) -> bool:
    from standardwebhooks import Webhook

    try:
        Webhook(secret).verify(body, headers, json_parse=False)
    except Exception:  # the library raises several types for malformed headers or bodies
        return False
    return True


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    webhook_id = delivery.header(ID_HEADER)
    timestamp = delivery.header(TIMESTAMP_HEADER)
    signature = delivery.header(SIGNATURE_HEADER)
    if not (webhook_id and timestamp and signature):
        raise AuthFailure("missing_header", "webhook-id/-timestamp/-signature required")
    if not _WEBHOOK_ID.fullmatch(webhook_id):
        raise AuthFailure("malformed_header", "webhook-id must be 1-256 visible ASCII characters")
    try:
        signed_at = datetime.fromtimestamp(int(timestamp.strip()), tz=UTC)
    except (ValueError, OverflowError, OSError) as exc:
        raise AuthFailure("malformed_header", "webhook-timestamp is not epoch seconds") from exc
    # The configured tolerance applies first; the library also enforces the spec's 5 minutes.
    tolerance = timedelta(seconds=context.settings.webhook_tolerance_seconds)
    require_fresh(signed_at, context, max_age=tolerance, what="webhook-timestamp")

    headers = {ID_HEADER: webhook_id, TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: signature}
    secrets = secret_candidates(context, tenant, "custom", "signing_secret")
    results = [_verified(secret, delivery.body, headers) for secret in secrets]
    if not any(results):
        raise AuthFailure("bad_signature", "no v1 signature matches a signing secret")
    if not results[0]:
        logger.info("custom webhook signed with the previous secret", extra={"tenant": tenant})

    data = parse_json(delivery.body)
    event = validate(CustomEvent, data, what="custom webhook")
    queue = queue_for(event.type)
    if queue is None:
        prefixes = ", ".join(prefix for prefix, _ in ROUTES)
        raise ValidationFailed(
            f"event type {event.type!r} is not routable; use one of the prefixes {prefixes}"
        )
    return accepted(
        delivery,
        context,
        queue,
        tenant_id=tenant,
        event_id=webhook_id,
        type=event.type,
        occurred_at=event.timestamp or signed_at,
        payload=data,
    )
