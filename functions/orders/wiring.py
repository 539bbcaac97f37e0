"""Wiring of the orders domain: the order record, its lifecycle, call records, notifications;
and the WhatsApp ordering channel (``WHATSAPP_FUNCTIONS``)."""

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
_OWNER_STAFF: tuple[TenantRole, ...] = ("owner", "staff")
_T = "/v1/tenants/{tenant_id}"
_ACCESS = Access(
    tables_read=(Table.MAIN,),
    tables_write=(Table.MAIN,),
    sends_to=(Queue.NOTIFICATIONS,),
    publishes_events=True,
    # The tenant's WhatsApp gateway secret (atende/<stage>/tenants/<id>/zapi|evolution).
    secret_prefixes=("tenants",),
)

ORDERS_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="orders-intake",
        domain="orders",
        handler="functions.orders.handlers.intake.handler",
        description="OrderPlaced -> one order record per order id; call outcomes.",
        queues=(QueueTrigger(queue=Queue.KITCHEN, batch_size=10),),
        access=_ACCESS,
    ),
    FunctionSpec(
        name="orders-notify",
        domain="orders",
        handler="functions.orders.handlers.notify.handler",
        description="Order webhooks and WhatsApp messages: fan out, deliver, retry, dead-letter.",
        # A WhatsApp send may retry inside (3 attempts) and a webhook POST waits up to 10 s:
        # small batches keep a slow provider well inside the timeout.
        timeout_seconds=90,
        queues=(QueueTrigger(queue=Queue.NOTIFICATIONS, batch_size=3),),
        access=_ACCESS,
    ),
    FunctionSpec(
        name="orders-reminders",
        domain="orders",
        handler="functions.orders.handlers.reminders.handler",
        description="Orders not accepted in time: remind the restaurant, then its timeout action.",
        timeout_seconds=120,
        reserved_concurrency=1,
        schedules=(Schedule(name="acceptance-reminders", expression="rate(1 minute)"),),
        access=_ACCESS,
    ),
    FunctionSpec(
        name="orders-admin-api",
        domain="orders",
        handler="functions.orders.handlers.admin_api.handler",
        description="Admin API: orders, status changes, call records, webhook endpoints.",
        routes=(
            HttpRoute(method="GET", path=f"{_T}/orders", auth=_ADMIN, tenant_roles=_OWNER_STAFF),
            HttpRoute(
                method="GET",
                path=f"{_T}/orders/{{order_id}}",
                auth=_ADMIN,
                tenant_roles=_OWNER_STAFF,
            ),
            HttpRoute(
                method="GET",
                path=f"{_T}/orders/by-number/{{number}}",
                auth=_ADMIN,
                tenant_roles=_OWNER_STAFF,
            ),
            HttpRoute(
                method="POST",
                path=f"{_T}/orders/{{order_id}}/status",
                auth=_ADMIN,
                tenant_roles=_OWNER_STAFF,
            ),
            HttpRoute(
                method="GET", path=f"{_T}/call-records", auth=_ADMIN, tenant_roles=_OWNER_STAFF
            ),
            HttpRoute(
                method="GET",
                path=f"{_T}/call-records/{{call_id}}",
                auth=_ADMIN,
                tenant_roles=_OWNER_STAFF,
            ),
            HttpRoute(method="POST", path=f"{_T}/order-webhooks", auth=_ADMIN),
            HttpRoute(method="GET", path=f"{_T}/order-webhooks", auth=_ADMIN),
            HttpRoute(method="DELETE", path=f"{_T}/order-webhooks/{{endpoint_id}}", auth=_ADMIN),
            HttpRoute(method="GET", path=f"{_T}/notifications", auth=_ADMIN),
            HttpRoute(method="GET", path=f"{_T}/notifications/{{delivery_id}}", auth=_ADMIN),
            HttpRoute(
                method="POST", path=f"{_T}/notifications/{{delivery_id}}/replay", auth=_ADMIN
            ),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            sends_to=(Queue.NOTIFICATIONS,),
            publishes_events=True,
            bucket_read=(Bucket.ARTIFACTS,),
        ),
    ),
)

_CONVERSATION = "/v1/tenants/{tenant_id}/whatsapp/conversations/{customer}"

WHATSAPP_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="orders-whatsapp",
        domain="orders",
        handler="functions.orders.handlers.whatsapp.handler",
        description="WhatsApp ordering: one conversation at a time per customer, on the same "
        "ordering core as the phone; replies through the tenant's gateway.",
        # A turn may wait on the LLM (and its tool rounds) and on the gateway's retries.
        timeout_seconds=50,
        memory_mb=512,
        queues=(QueueTrigger(queue=Queue.MESSAGING, batch_size=10),),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            publishes_events=True,
            # tenants: the gateways' credentials; providers: the platform's OpenAI key.
            secret_prefixes=("tenants", "providers"),
        ),
    ),
    FunctionSpec(
        name="orders-whatsapp-admin",
        domain="orders",
        handler="functions.orders.handlers.whatsapp_admin.handler",
        description="See a WhatsApp conversation; pause or resume the bot in it.",
        timeout_seconds=15,
        routes=(
            HttpRoute(method="GET", path=_CONVERSATION, auth="admin"),
            HttpRoute(method="POST", path=f"{_CONVERSATION}/pause", auth="admin"),
            HttpRoute(method="POST", path=f"{_CONVERSATION}/resume", auth="admin"),
        ),
        access=Access(tables_read=(Table.MAIN,), tables_write=(Table.MAIN,)),
    ),
)
