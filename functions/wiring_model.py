"""The vocabulary of the wiring table: functions, their triggers and the resources they use.

Plain frozen pydantic models so the table is data (validated, printable, comparable) that
both the CDK app (``infra_cdk``) and the local platform (``atende_local``) read.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from atende_shared.resources import Bucket, Queue, Table

HttpMethod = Literal["GET", "POST", "PUT", "PATCH", "DELETE"]
RouteAuth = Literal["public-signed", "admin"]
#: A restaurant user's role (the ``custom:role`` attribute of the Cognito user pool).
TenantRole = Literal["owner", "staff"]
TENANT_ROLES: tuple[TenantRole, ...] = ("owner", "staff")
#: Tenant-user routes are the flagged admin routes again under this prefix, behind the
#: Cognito authorizer (``/app/v1/tenants/{tenant_id}/orders``): same Lambda, same resolver.
TENANT_APP_PREFIX = "/app"
Domain = Literal["webhooks", "sync", "billing", "provision", "orders"]

#: A function's reserved concurrency unless its spec says otherwise.
DEFAULT_RESERVED_CONCURRENCY = 10

_RATE = re.compile(r"^rate\((1 (minute|hour|day)|[1-9]\d* (minutes|hours|days))\)$")
_CRON = re.compile(r"^cron\(\S+ \S+ \S+ \S+ \S+ \S+\)$")


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class HttpRoute(_Spec):
    """An API Gateway route. ``public-signed`` routes check a provider signature in the
    handler; ``admin`` routes are IAM-authorized in AWS (bearer token locally)."""

    method: HttpMethod
    path: str = Field(pattern=r"^/[A-Za-z0-9_\-/{}.]*$")
    auth: RouteAuth
    #: Public routes are capped at the edge (WAF, 64 KiB: all WAF can inspect). A route
    #: that takes bigger bodies (pushed catalog batches) opts out; its handler enforces
    #: its own limit within API Gateway's 10 MB.
    large_body: bool = False
    #: A ``large_body`` route's own cap (the constant its handler enforces): WAF refuses a
    #: declared ``Content-Length`` above it before API Gateway reads the body.
    max_body_bytes: int | None = Field(None, gt=0, le=10 * 1024 * 1024)
    #: Roles of restaurant users (Cognito) that may call this admin route too, under
    #: ``/app`` and only for their own ``{tenant_id}`` (checked by the resolver, see
    #: ``atende_shared.http``). Empty: admins (IAM) only.
    tenant_roles: tuple[TenantRole, ...] = ()

    @model_validator(mode="after")
    def _large_bodies_declare_their_cap(self) -> HttpRoute:
        if self.large_body and self.auth != "admin" and self.max_body_bytes is None:
            raise ValueError(f"{self.path}: a public large_body route declares max_body_bytes")
        return self

    @model_validator(mode="after")
    def _tenant_routes_are_tenant_scoped(self) -> HttpRoute:
        if self.tenant_roles:
            if self.auth != "admin":
                raise ValueError(f"{self.path}: only admin routes can be opened to tenant users")
            if not self.path.startswith("/v1/tenants/{tenant_id}"):
                raise ValueError(
                    f"{self.path}: a tenant route lies under /v1/tenants/{{tenant_id}}"
                )
            if len(set(self.tenant_roles)) != len(self.tenant_roles):
                raise ValueError(f"{self.path}: tenant_roles repeats a role")
        return self

    @property
    def tenant_path(self) -> str | None:
        """The route's path for tenant users (``/app/...``), or None when not flagged."""
        return f"{TENANT_APP_PREFIX}{self.path}" if self.tenant_roles else None

    @property
    def path_parameters(self) -> list[str]:
        return re.findall(r"{([A-Za-z0-9_]+)}", self.path)


class QueueSpec(_Spec):
    """An SQS work queue and its DLQ."""

    name: Queue
    fifo: bool = False
    visibility_timeout_seconds: int = Field(60, ge=1, le=43_200)
    max_receive_count: int = Field(5, ge=1, le=1_000)
    retention_days: int = Field(4, ge=1, le=14)
    dlq_retention_days: int = Field(14, ge=1, le=14)
    #: EventBridge detail-types on the custom bus delivered into this queue.
    subscribes_to: tuple[str, ...] = ()

    @property
    def physical_suffix(self) -> str:
        """``calls`` or ``payments.fifo``: SQS requires the suffix on FIFO queues."""
        return f"{self.name.value}.fifo" if self.fifo else self.name.value


class QueueTrigger(_Spec):
    """An SQS event source. Partial batch responses are always on."""

    queue: Queue
    batch_size: int = Field(10, ge=1, le=10_000)
    max_batching_window_seconds: int = Field(0, ge=0, le=300)
    max_concurrency: int | None = Field(None, ge=2, le=1_000)


class Schedule(_Spec):
    """An EventBridge schedule (``rate(...)`` or ``cron(...)``)."""

    name: str = Field(pattern=r"^[A-Za-z0-9-]+$")
    expression: str
    payload: dict[str, str] = Field(default_factory=dict)

    @field_validator("expression")
    @classmethod
    def _valid_expression(cls, value: str) -> str:
        if not (_RATE.fullmatch(value) or _CRON.fullmatch(value)):
            raise ValueError(f"{value!r} is not an EventBridge rate(...) or cron(...) expression")
        return value

    @property
    def rate_seconds(self) -> int | None:
        """Period of a ``rate(...)`` schedule in seconds (None for cron)."""
        match = re.fullmatch(r"rate\((\d+) (minute|hour|day)s?\)", self.expression)
        if not match:
            return None
        unit = {"minute": 60, "hour": 3_600, "day": 86_400}[match.group(2)]
        return int(match.group(1)) * unit


class Access(_Spec):
    """What a function may touch; the CDK grants exactly this and sets the env vars."""

    tables_read: tuple[Table, ...] = ()
    tables_write: tuple[Table, ...] = ()
    sends_to: tuple[Queue, ...] = ()
    publishes_events: bool = False
    bucket_read: tuple[Bucket, ...] = ()
    bucket_write: tuple[Bucket, ...] = ()
    #: Secrets Manager name prefixes (under ``atende/<stage>/``) the function reads.
    secret_prefixes: tuple[str, ...] = ()
    #: Secret names (``*`` for one path segment) under ``atende/<stage>/`` the function
    #: also rewrites (rotating OAuth tokens): ``tenants/*/bling``, never a whole prefix.
    secret_writes: tuple[str, ...] = ()
    livekit: bool = False
    #: Invites restaurant users: AdminCreateUser on the tenant-user Cognito pool
    #: (``ATENDE_TENANT_USER_POOL_ID``).
    tenant_users: bool = False

    @model_validator(mode="after")
    def _check_secret_writes(self) -> Access:
        return _writes_within_reads(self)


def _writes_within_reads(access: Access) -> Access:
    for name in access.secret_writes:
        if not any(name.startswith(f"{prefix}/") for prefix in access.secret_prefixes):
            raise ValueError(f"secret_writes {name!r} must lie under one of secret_prefixes")
        if name.endswith(("/*", "/")) or "**" in name:
            raise ValueError(f"secret_writes {name!r} must name secrets, not a whole prefix")
    return access


class FunctionSpec(_Spec):
    """One Lambda function and everything that triggers it."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    domain: Domain
    handler: str = Field(pattern=r"^functions\.[a-z_.]+\.[a-z_]+$", description="module.attr")
    description: str
    memory_mb: int = Field(512, ge=128, le=10_240)
    timeout_seconds: int = Field(30, ge=1, le=900)
    #: Every function has a ceiling, so one flood (a webhook storm, a redrive) cannot take
    #: the account's whole concurrency; queue consumers' event sources scale to it.
    reserved_concurrency: int = Field(DEFAULT_RESERVED_CONCURRENCY, ge=1, le=200)
    routes: tuple[HttpRoute, ...] = ()
    queues: tuple[QueueTrigger, ...] = ()
    schedules: tuple[Schedule, ...] = ()
    access: Access = Access()

    @model_validator(mode="after")
    def _module_in_domain(self) -> FunctionSpec:
        if not self.handler.startswith(f"functions.{self.domain}.handlers."):
            raise ValueError(f"{self.name}: handler must live in functions.{self.domain}.handlers")
        return self

    @property
    def module(self) -> str:
        return self.handler.rsplit(".", 1)[0]

    @property
    def attribute(self) -> str:
        return self.handler.rsplit(".", 1)[1]


class ContainerSpec(_Spec):
    """A long-running container (the voice agent): what it may touch, granted by the CDK
    app exactly as a function's ``access`` is."""

    name: str = Field(pattern=r"^[a-z][a-z0-9-]{2,40}$")
    description: str
    access: Access = Access()


class TableSpec(_Spec):
    """A DynamoDB table: key schema, global secondary indexes, TTL attribute."""

    name: Table
    partition_key: str
    sort_key: str | None = None
    gsis: tuple[tuple[str, str, str], ...] = ()  # (index name, pk attribute, sk attribute)
    ttl_attribute: str | None = None


def tenant_routes_env(functions: Iterable[FunctionSpec]) -> str | None:
    """The value of ``ATENDE_TENANT_ROUTES`` (``atende_shared.http``) for these functions:
    ``{"GET /v1/tenants/{tenant_id}/orders": ["owner", "staff"], ...}``, compact JSON, or
    None when none of their routes is flagged. The CDK app sets it on each function (its
    own routes); the local platform sets it once (every function's)."""
    routes = {
        f"{route.method} {route.path}": list(route.tenant_roles)
        for spec in functions
        for route in spec.routes
        if route.tenant_roles
    }
    return json.dumps(routes, separators=(",", ":"), sort_keys=True) if routes else None
