"""Wiring of the provision domain: the tenant admin API and SIP provisioning."""

from __future__ import annotations

from atende_shared.resources import Queue, Table
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

PROVISION_FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="provision-admin-api",
        domain="provision",
        handler="functions.provision.handlers.admin_api.handler",
        description="Admin API: tenants, agent config, menu, phone numbers, test-call tokens.",
        routes=(
            HttpRoute(method="POST", path="/v1/tenants", auth=_ADMIN),
            HttpRoute(method="GET", path="/v1/tenants", auth=_ADMIN),
            HttpRoute(method="GET", path=_T, auth=_ADMIN, tenant_roles=_OWNER_STAFF),
            HttpRoute(method="PATCH", path=_T, auth=_ADMIN),
            HttpRoute(method="PATCH", path=f"{_T}/shop", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(method="GET", path=f"{_T}/agent", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(method="PUT", path=f"{_T}/agent", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(method="GET", path=f"{_T}/menu", auth=_ADMIN, tenant_roles=_OWNER_STAFF),
            HttpRoute(method="PUT", path=f"{_T}/menu", auth=_ADMIN, tenant_roles=_OWNER_STAFF),
            HttpRoute(method="GET", path=f"{_T}/phone-numbers", auth=_ADMIN, tenant_roles=_OWNER),
            HttpRoute(method="POST", path=f"{_T}/phone-numbers", auth=_ADMIN),
            HttpRoute(method="DELETE", path=f"{_T}/phone-numbers/{{number}}", auth=_ADMIN),
            HttpRoute(method="POST", path=f"{_T}/suspend", auth=_ADMIN),
            HttpRoute(method="POST", path=f"{_T}/resume", auth=_ADMIN),
            HttpRoute(
                method="POST", path=f"{_T}/test-call-token", auth=_ADMIN, tenant_roles=_OWNER
            ),
            HttpRoute(method="POST", path=f"{_T}/users", auth=_ADMIN),
            HttpRoute(method="DELETE", path=f"{_T}/customers/{{phone}}", auth=_ADMIN),
        ),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            sends_to=(Queue.PROVISIONING,),
            publishes_events=True,
            secret_prefixes=("tenants",),
            livekit=True,
            tenant_users=True,
        ),
    ),
    FunctionSpec(
        name="provision-worker",
        domain="provision",
        handler="functions.provision.handlers.worker.handler",
        description="Ensure/release LiveKit SIP trunks and dispatch rules per phone number.",
        timeout_seconds=90,
        # LiveKit's SIP API must not be stampeded; numbers are serialised anyway.
        reserved_concurrency=5,
        queues=(QueueTrigger(queue=Queue.PROVISIONING, batch_size=5),),
        access=Access(
            tables_read=(Table.MAIN,),
            tables_write=(Table.MAIN,),
            livekit=True,
        ),
    ),
    FunctionSpec(
        name="provision-reconcile",
        domain="provision",
        handler="functions.provision.handlers.reconcile.handler",
        description="Compare DynamoDB with LiveKit's trunks and rules and repair drift.",
        timeout_seconds=300,
        reserved_concurrency=1,
        schedules=(Schedule(name="sip-reconcile", expression="rate(1 hour)"),),
        access=Access(tables_read=(Table.MAIN,), tables_write=(Table.MAIN,), livekit=True),
    ),
)
