"""The wiring table: every function, its triggers, and the resources they share.

Declared once, here and in each domain's ``wiring.py``; read by the CDK app and the
local platform. ``tests/infra/test_wiring_matches_template.py`` proves the synthesized
template carries exactly these triggers.
"""

from __future__ import annotations

from atende_shared.dal import keys
from atende_shared.resources import Bucket, Queue, Table
from functions.billing.wiring import BILLING_FUNCTIONS
from functions.orders.wiring import ORDERS_FUNCTIONS, WHATSAPP_FUNCTIONS
from functions.provision.wiring import PROVISION_FUNCTIONS
from functions.sync.wiring import SYNC_FUNCTIONS
from functions.webhooks.wiring import WEBHOOK_FUNCTIONS
from functions.wiring_model import Access, ContainerSpec, FunctionSpec, QueueSpec, TableSpec

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        name=Table.MAIN,
        partition_key=keys.PK,
        sort_key=keys.SK,
        gsis=(
            (keys.GSI1, keys.GSI1_PK, keys.GSI1_SK),
            # A tenant's orders, newest first (docs/data-model.md, "Orders").
            (keys.GSI2, keys.GSI2_PK, keys.GSI2_SK),
        ),
        ttl_attribute=keys.TTL_ATTRIBUTE,
    ),
    TableSpec(
        name=Table.IDEMPOTENCY,
        partition_key=keys.IDEMPOTENCY_KEY,
        ttl_attribute=keys.IDEMPOTENCY_TTL_ATTRIBUTE,
    ),
)

QUEUES: tuple[QueueSpec, ...] = (
    # LiveKit room/participant events and the agent's usage reports. Standard queue: the
    # call-session state machine converges whatever the order, so FIFO would buy nothing.
    QueueSpec(
        name=Queue.CALLS,
        visibility_timeout_seconds=60,
        max_receive_count=5,
        subscribes_to=("CallUsageReported",),
    ),
    # ERP/hub catalog, stock and order notifications; per-tenant order matters.
    QueueSpec(name=Queue.CATALOG, fifo=True, visibility_timeout_seconds=300, max_receive_count=5),
    # Payment provider events; per-tenant order matters (credit before refund).
    QueueSpec(name=Queue.PAYMENTS, fifo=True, visibility_timeout_seconds=60, max_receive_count=5),
    # WhatsApp gateway messages; one message group per conversation. The visibility
    # timeout exceeds the conversation consumer's timeout (50 s) as SQS requires.
    QueueSpec(name=Queue.MESSAGING, fifo=True, visibility_timeout_seconds=60, max_receive_count=5),
    # Orders placed by the agent, on their way back to the tenant's ERP.
    QueueSpec(
        name=Queue.ORDERS,
        visibility_timeout_seconds=120,
        max_receive_count=8,
        subscribes_to=("OrderPlaced",),
    ),
    # SIP provisioning work handed over by the admin API (LiveKit may be slow or down).
    QueueSpec(
        name=Queue.PROVISIONING,
        visibility_timeout_seconds=120,
        max_receive_count=6,
        subscribes_to=("TenantSuspended", "TenantResumed"),
    ),
    # The orders domain's intake: one order record per OrderPlaced, call outcomes.
    QueueSpec(
        name=Queue.KITCHEN,
        visibility_timeout_seconds=60,
        max_receive_count=8,
        subscribes_to=("OrderPlaced", "CallUsageReported"),
    ),
    # Order webhooks and WhatsApp messages. Retries with backoff are re-enqueues with
    # DelaySeconds (the delivery records its attempts); the DLQ only catches crashes.
    QueueSpec(
        name=Queue.NOTIFICATIONS,
        visibility_timeout_seconds=180,
        max_receive_count=5,
        subscribes_to=("OrderStatusChanged",),
    ),
)

BUCKETS: tuple[Bucket, ...] = (Bucket.ARTIFACTS,)

FUNCTIONS: tuple[FunctionSpec, ...] = (
    *WEBHOOK_FUNCTIONS,
    *PROVISION_FUNCTIONS,
    *BILLING_FUNCTIONS,
    *SYNC_FUNCTIONS,
    *ORDERS_FUNCTIONS,
    *WHATSAPP_FUNCTIONS,
)


#: The voice agent (``voice_fargate``, on Fargate): reads tenants and menus, writes call
#: transcripts, publishes OrderPlaced / CallUsageReported, holds the LiveKit keys; writes the
#: main table for the kitchen's order number (allocated at confirmation) and the customers
#: it remembers (name, last order).
AGENT = ContainerSpec(
    name="voice-agent",
    description="LiveKit voice agent worker: one session per call.",
    access=Access(
        tables_read=(Table.MAIN,),
        tables_write=(Table.MAIN,),
        bucket_write=(Bucket.ARTIFACTS,),
        publishes_events=True,
        livekit=True,
    ),
)


def function(name: str) -> FunctionSpec:
    """The spec of the function called ``name`` (KeyError if none)."""
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def queue(name: Queue) -> QueueSpec:
    """The spec of queue ``name``."""
    for spec in QUEUES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def _check_unique() -> None:
    names = [f.name for f in FUNCTIONS]
    routes = [f"{r.method} {r.path}" for f in FUNCTIONS for r in f.routes]
    consumers = [q.queue.value for f in FUNCTIONS for q in f.queues]
    checks: tuple[tuple[str, list[str]], ...] = (
        ("function", names),
        ("route", routes),
        ("queue consumer", consumers),
    )
    for label, values in checks:
        duplicates = {v for v in values if values.count(v) > 1}
        if duplicates:
            raise ValueError(f"duplicate {label} in wiring: {sorted(duplicates)}")


_check_unique()
