"""``webhooks-ingress``: every provider's webhook routes, one thin Lambda entry point.

Each route hands the raw API Gateway event to the pipeline (signatures need the exact
bytes, which the resolver's decoded body would not give) and turns its outcome into the
answer; refusals are domain errors the shared resolver maps to their status.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from atende_shared.errors import DependencyUnavailable, error_body
from atende_shared.http import build_resolver
from atende_shared.messaging import SqsQueueSender
from atende_shared.models.envelope import Provider
from atende_shared.observability import instrumented
from atende_shared.settings import load_settings
from atende_shared.tenant_secrets import SecretsManagerReader
from functions.webhooks.dal.dedupe import dedupe_store
from functions.webhooks.logic.metrics import PowertoolsMetrics
from functions.webhooks.logic.pipeline import IngressDeps, Outcome, ingest_event
from functions.webhooks.logic.secrets_cache import MissCache, MissCachingReader
from functions.webhooks.models.settings import IngressSettings

app = build_resolver(title="Atende webhook ingress")
_SENDER = SqsQueueSender()
_METRICS = PowertoolsMetrics()
SECRET_MISSES = MissCache()


def _deps() -> IngressDeps:
    settings = load_settings(IngressSettings)
    return IngressDeps(
        settings=settings,
        secrets=MissCachingReader(SecretsManagerReader(settings.stage), SECRET_MISSES),
        dedupe=dedupe_store(settings.idempotency_table),
        sender=_SENDER,
        metrics=_METRICS,
    )


def _ingest(provider: Provider, **route_params: str) -> Response[Any]:
    deps = _deps()
    outcome = ingest_event(app.current_event.raw_event, provider, deps, route_params=route_params)
    if outcome is Outcome.IN_PROGRESS:
        # 503, not 409: senders retry 5xx, and the retry must get through if this
        # concurrent first attempt fails to enqueue.
        retry_after = str(deps.settings.dedupe_lease_seconds)
        return Response(
            status_code=503,
            content_type=content_types.APPLICATION_JSON,
            headers={"Retry-After": retry_after},
            body=error_body(DependencyUnavailable("delivery already in progress")),
        )
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body={"status": outcome.value},
    )


@app.post("/webhooks/livekit")
def livekit() -> Response[Any]:
    return _ingest(Provider.LIVEKIT)


@app.post("/webhooks/bling/<tenant_id>")
def bling(tenant_id: str) -> Response[Any]:
    return _ingest(Provider.BLING, tenant_id=tenant_id)


@app.post("/webhooks/asaas/<tenant_id>")
def asaas(tenant_id: str) -> Response[Any]:
    return _ingest(Provider.ASAAS, tenant_id=tenant_id)


@app.post("/webhooks/pluggto/<tenant_id>/<path_secret>")
def pluggto(tenant_id: str, path_secret: str) -> Response[Any]:
    return _ingest(Provider.PLUGGTO, tenant_id=tenant_id, path_secret=path_secret)


@app.post("/webhooks/zapi/<tenant_id>")
def zapi(tenant_id: str) -> Response[Any]:
    return _ingest(Provider.ZAPI, tenant_id=tenant_id)


@app.post("/webhooks/evolution/<tenant_id>")
def evolution(tenant_id: str) -> Response[Any]:
    return _ingest(Provider.EVOLUTION, tenant_id=tenant_id)


@app.post("/webhooks/evolution/<tenant_id>/<event_slug>")
def evolution_by_event(tenant_id: str, event_slug: str) -> Response[Any]:
    # ``webhook_by_events``: Evolution appends the event to the URL; the body names it too.
    return _ingest(Provider.EVOLUTION, tenant_id=tenant_id)


@app.post("/webhooks/custom/<tenant_id>")
def custom(tenant_id: str) -> Response[Any]:
    return _ingest(Provider.CUSTOM, tenant_id=tenant_id)


@instrumented(IngressSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (API Gateway REST proxy events). Lambda runs one event at a
    time per environment, and so does the local runtime (``atende_local.runtime``): the
    resolver's per-invocation state is never shared. Concurrent deliveries of one event
    meet only in DynamoDB, at the dedupe claim."""
    return app.resolve(event, context)
