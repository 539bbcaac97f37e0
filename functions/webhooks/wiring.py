"""Wiring of the webhooks domain: the public ingress routes."""

from __future__ import annotations

from atende_shared.resources import Queue, Table
from functions.wiring_model import Access, FunctionSpec, HttpRoute

_SIGNED = "public-signed"

WEBHOOK_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="webhooks-ingress",
        domain="webhooks",
        handler="functions.webhooks.handlers.ingress.handler",
        description="Verify, normalise, de-duplicate and enqueue every provider's webhooks.",
        memory_mb=512,
        timeout_seconds=10,
        routes=(
            HttpRoute(method="POST", path="/webhooks/livekit", auth=_SIGNED),
            HttpRoute(method="POST", path="/webhooks/bling/{tenant_id}", auth=_SIGNED),
            HttpRoute(method="POST", path="/webhooks/asaas/{tenant_id}", auth=_SIGNED),
            HttpRoute(
                method="POST", path="/webhooks/pluggto/{tenant_id}/{path_secret}", auth=_SIGNED
            ),
            HttpRoute(method="POST", path="/webhooks/zapi/{tenant_id}", auth=_SIGNED),
            HttpRoute(method="POST", path="/webhooks/evolution/{tenant_id}", auth=_SIGNED),
            HttpRoute(
                method="POST", path="/webhooks/evolution/{tenant_id}/{event_slug}", auth=_SIGNED
            ),
            HttpRoute(method="POST", path="/webhooks/custom/{tenant_id}", auth=_SIGNED),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.IDEMPOTENCY,),
            sends_to=(Queue.CALLS, Queue.CATALOG, Queue.PAYMENTS, Queue.MESSAGING),
            secret_prefixes=("tenants",),
            livekit=True,
        ),
    ),
)
