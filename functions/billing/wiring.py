"""Wiring of the billing domain: call rating, the prepaid ledger, statements."""

from __future__ import annotations

from atende_shared.resources import Bucket, Queue, Table
from functions.wiring_model import (
    Access,
    FunctionSpec,
    HttpRoute,
    QueueTrigger,
    Schedule,
    TenantRole,
)

_ADMIN = "admin"
#: Restaurant users (console, under /app) on the routes flagged with these roles.
_OWNER: tuple[TenantRole, ...] = ("owner",)
_OWNER_STAFF: tuple[TenantRole, ...] = ("owner", "staff")
_T = "/v1/tenants/{tenant_id}"
_LEDGER_ACCESS = Access(
    tables_read=(Table.MAIN,),
    tables_write=(Table.MAIN,),
    publishes_events=True,
)

BILLING_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="billing-calls",
        domain="billing",
        handler="functions.billing.handlers.calls.handler",
        description="Call sessions from LiveKit events: reserve at start, rate and post at end.",
        timeout_seconds=30,
        queues=(QueueTrigger(queue=Queue.CALLS, batch_size=10, max_batching_window_seconds=1),),
        access=_LEDGER_ACCESS,
    ),
    FunctionSpec(
        name="billing-payments",
        domain="billing",
        handler="functions.billing.handlers.payments.handler",
        description="Credit payments and debit refunds/chargebacks exactly once.",
        queues=(QueueTrigger(queue=Queue.PAYMENTS, batch_size=10),),
        # Reads the tenant's Asaas API key to verify a payment at Asaas before crediting it.
        access=_LEDGER_ACCESS.model_copy(update={"secret_prefixes": ("tenants",)}),
    ),
    FunctionSpec(
        name="billing-sweeper",
        domain="billing",
        handler="functions.billing.handlers.sweeper.handler",
        description="Close call sessions whose end never arrived (capped at max call length).",
        timeout_seconds=120,
        reserved_concurrency=1,
        schedules=(Schedule(name="call-sweeper", expression="rate(5 minutes)"),),
        access=_LEDGER_ACCESS,
    ),
    FunctionSpec(
        name="billing-jobs",
        domain="billing",
        handler="functions.billing.handlers.jobs.handler",
        description="Monthly statements to S3 and the daily balance == sum(ledger) proof.",
        timeout_seconds=600,
        memory_mb=1024,
        reserved_concurrency=1,
        schedules=(
            Schedule(
                name="monthly-statements",
                expression="cron(0 4 1 * ? *)",
                payload={"job": "statements"},
            ),
            Schedule(
                name="daily-reconciliation", expression="rate(1 day)", payload={"job": "reconcile"}
            ),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            bucket_write=(Bucket.ARTIFACTS,),
            publishes_events=True,
        ),
    ),
    FunctionSpec(
        name="billing-admin-api",
        domain="billing",
        handler="functions.billing.handlers.admin_api.handler",
        description="Admin API: balance, ledger, calls, credits, statements.",
        routes=(
            HttpRoute(method="GET", path=f"{_T}/balance", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(method="GET", path=f"{_T}/ledger", auth=_ADMIN, tenant_roles=_OWNER),
            # Not for restaurant users: it shows the platform's provider cost and margin.
            HttpRoute(method="GET", path=f"{_T}/calls", auth=_ADMIN),
            HttpRoute(method="POST", path=f"{_T}/credits", auth=_ADMIN),
            HttpRoute(method="GET", path=f"{_T}/statements", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(
                method="GET", path=f"{_T}/statements/{{period}}", auth=_ADMIN, tenant_roles=_OWNER
            ),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            bucket_read=(Bucket.ARTIFACTS,),
            publishes_events=True,
        ),
    ),
)
