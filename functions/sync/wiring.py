"""Wiring of the sync domain: catalog/stock in from ERPs and hubs, orders back out."""

from __future__ import annotations

from atende_shared.resources import Bucket, Queue, Table
from functions.sync.settings import INGEST_MAX_BODY_BYTES
from functions.wiring_model import Access, FunctionSpec, HttpRoute, QueueTrigger, Schedule

#: The only tenant secrets sync rewrites: Bling's, whose refresh token rotates on use.
BLING_SECRETS = "tenants/*/bling"

_CATALOG_ACCESS = Access(
    tables_read=(Table.MAIN,),
    tables_write=(Table.MAIN,),
    # Long pull runs continue themselves as a new job on the catalog queue.
    sends_to=(Queue.CATALOG,),
    publishes_events=True,
    bucket_read=(Bucket.ARTIFACTS,),
    bucket_write=(Bucket.ARTIFACTS,),
    secret_prefixes=("tenants",),
    # Bling's refresh token rotates: the refresher stores the new pair before use.
    secret_writes=(BLING_SECRETS,),
)

SYNC_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="sync-catalog",
        domain="sync",
        handler="functions.sync.handlers.catalog.handler",
        description="Webhook fast path, pull runs and pushed batches: normalise, quarantine, "
        "write only what changed, mirror deletions behind the guard.",
        timeout_seconds=240,
        memory_mb=1024,
        # Bling allows 3 requests/s per account (shared limiter): a handful of workers.
        reserved_concurrency=4,
        queues=(QueueTrigger(queue=Queue.CATALOG, batch_size=1),),
        access=_CATALOG_ACCESS,
    ),
    FunctionSpec(
        name="sync-scheduler",
        domain="sync",
        handler="functions.sync.handlers.scheduler.handler",
        description="Fan out a catalog sync job per tenant with a pull source.",
        timeout_seconds=60,
        reserved_concurrency=1,
        schedules=(
            Schedule(
                name="catalog-incremental",
                expression="rate(15 minutes)",
                payload={"mode": "incremental"},
            ),
            # 05:30 UTC = 02:30 in São Paulo: the nightly full mirror, off the busy hours.
            Schedule(
                name="catalog-full-mirror",
                expression="cron(30 5 * * ? *)",
                payload={"mode": "full"},
            ),
        ),
        access=Access(tables_read=(Table.MAIN,), sends_to=(Queue.CATALOG,)),
    ),
    FunctionSpec(
        name="sync-ingest",
        domain="sync",
        handler="functions.sync.handlers.ingest.handler",
        description="Accept catalog/stock batches pushed by an on-premises extractor.",
        timeout_seconds=15,
        routes=(
            HttpRoute(
                method="POST",
                path="/v1/ingest/{tenant_id}/{stream}",
                auth="public-signed",
                large_body=True,
                max_body_bytes=INGEST_MAX_BODY_BYTES,
            ),
            HttpRoute(
                method="POST",
                path="/v1/ingest/{tenant_id}/{stream}/complete",
                auth="public-signed",
                large_body=True,
                max_body_bytes=INGEST_MAX_BODY_BYTES,
            ),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            sends_to=(Queue.CATALOG,),
            bucket_write=(Bucket.ARTIFACTS,),
            secret_prefixes=("tenants",),
        ),
    ),
    FunctionSpec(
        name="sync-admin-api",
        domain="sync",
        handler="functions.sync.handlers.admin.handler",
        description="Start and inspect sync runs; show orders' write-back status.",
        timeout_seconds=15,
        routes=(
            HttpRoute(method="POST", path="/v1/tenants/{tenant_id}/sync-runs", auth="admin"),
            HttpRoute(method="GET", path="/v1/tenants/{tenant_id}/sync-runs", auth="admin"),
            HttpRoute(
                method="GET", path="/v1/tenants/{tenant_id}/sync-runs/{run_id}", auth="admin"
            ),
            HttpRoute(
                method="GET", path="/v1/tenants/{tenant_id}/orders/{order_id}/sync", auth="admin"
            ),
        ),
        access=Access(
            tables_read=(Table.MAIN,), tables_write=(Table.MAIN,), sends_to=(Queue.CATALOG,)
        ),
    ),
    FunctionSpec(
        name="sync-orders",
        domain="sync",
        handler="functions.sync.handlers.orders.handler",
        description="Write orders placed by the agent back to the tenant's ERP, exactly once.",
        timeout_seconds=60,
        reserved_concurrency=4,
        queues=(QueueTrigger(queue=Queue.ORDERS, batch_size=5),),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            secret_prefixes=("tenants",),
            secret_writes=(BLING_SECRETS,),
        ),
    ),
)
