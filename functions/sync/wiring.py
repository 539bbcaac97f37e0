"""Wiring of the sync domain: catalog/stock in from ERPs and hubs, orders back out."""

from __future__ import annotations

from atende_shared.resources import Bucket, Queue, Table
from functions.wiring_model import Access, FunctionSpec, HttpRoute, QueueTrigger, Schedule

_CATALOG_ACCESS = Access(
    tables_read=(Table.MAIN,),
    tables_write=(Table.MAIN, Table.IDEMPOTENCY),
    publishes_events=True,
    bucket_write=(Bucket.ARTIFACTS,),
    secret_prefixes=("tenants",),
)

SYNC_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="sync-catalog",
        domain="sync",
        handler="functions.sync.handlers.catalog.handler",
        description="Read the tenant's source, normalise, quarantine, write only what changed.",
        timeout_seconds=240,
        memory_mb=1024,
        # Bling allows 3 requests/s per account: a handful of workers is plenty.
        reserved_concurrency=4,
        queues=(QueueTrigger(queue=Queue.CATALOG, batch_size=1),),
        access=_CATALOG_ACCESS,
    ),
    FunctionSpec(
        name="sync-scheduler",
        domain="sync",
        handler="functions.sync.handlers.scheduler.handler",
        description="Fan out an incremental catalog sync job per tenant with a source.",
        timeout_seconds=60,
        reserved_concurrency=1,
        schedules=(Schedule(name="catalog-incremental", expression="rate(15 minutes)"),),
        access=Access(tables_read=(Table.MAIN,), sends_to=(Queue.CATALOG,)),
    ),
    FunctionSpec(
        name="sync-ingest",
        domain="sync",
        handler="functions.sync.handlers.ingest.handler",
        description="Accept catalog batches pushed by an on-premises extractor.",
        routes=(
            HttpRoute(method="POST", path="/ingest/{tenant_id}/batches", auth="public-signed"),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.IDEMPOTENCY,),
            sends_to=(Queue.CATALOG,),
            bucket_write=(Bucket.ARTIFACTS,),
            secret_prefixes=("tenants",),
        ),
    ),
    FunctionSpec(
        name="sync-orders",
        domain="sync",
        handler="functions.sync.handlers.orders.handler",
        description="Push orders placed by the agent to the tenant's ERP, with retries.",
        timeout_seconds=60,
        reserved_concurrency=4,
        queues=(QueueTrigger(queue=Queue.ORDERS, batch_size=5),),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN, Table.IDEMPOTENCY),
            secret_prefixes=("tenants",),
        ),
    ),
    FunctionSpec(
        name="sync-messages",
        domain="sync",
        handler="functions.sync.handlers.messages.handler",
        description="Record inbound WhatsApp messages against the tenant's customers/orders.",
        queues=(QueueTrigger(queue=Queue.MESSAGING, batch_size=10),),
        access=Access(tables_read=(Table.MAIN,), tables_write=(Table.MAIN,)),
    ),
)
