"""Wiring of the orders domain: the WhatsApp ordering channel.

(The order record, its lifecycle and notifications declare their own tuple beside this one.)
"""

from __future__ import annotations

from atende_shared.resources import Queue, Table
from functions.wiring_model import Access, FunctionSpec, HttpRoute, QueueTrigger

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
