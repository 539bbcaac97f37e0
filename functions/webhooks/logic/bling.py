"""Bling: ``X-Bling-Signature-256: sha256=<hex HMAC-SHA256(raw body, client_secret)>``."""

from __future__ import annotations

import hashlib
import hmac
import re

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
from functions.webhooks.models.bling import BLING_RESOURCES, BlingWebhook

SIGNATURE_HEADER = "x-bling-signature-256"
_SIGNATURE = re.compile(r"^sha256=([0-9a-fA-F]{64})$")


def sign(body: bytes, client_secret: str) -> str:
    """The header value Bling sends for ``body``."""
    digest = hmac.new(client_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    header = delivery.header(SIGNATURE_HEADER)
    if not header:
        raise AuthFailure("missing_header", f"no {SIGNATURE_HEADER}")
    match = _SIGNATURE.fullmatch(header.strip())
    if not match:
        raise AuthFailure("malformed_signature", f"{SIGNATURE_HEADER} is not sha256=<hex>")
    presented = match.group(0).lower()
    secrets = secret_candidates(context, tenant, "bling", "client_secret")
    if not matches_any(presented, (sign(delivery.body, s) for s in secrets)):
        raise AuthFailure("bad_signature", "HMAC does not match any client secret")

    data = parse_json(delivery.body)
    event = validate(BlingWebhook, data, what="Bling webhook")
    # Bling retries a refused delivery for days: the window follows it (7 days by default)
    # and the dedupe record outlives it, so every replay we accept is a known duplicate.
    require_fresh(event.date, context, max_age=replay_window(context, "bling"), what="Bling date")
    if event.resource not in BLING_RESOURCES:
        return Ignored(f"Bling {event.event} is not used by Atende")
    return accepted(
        delivery,
        context,
        Queue.CATALOG,
        tenant_id=tenant,
        event_id=event.event_id,
        type=event.event,
        occurred_at=event.date,
        payload=data,
    )
