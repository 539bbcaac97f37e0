"""The orders logic's dependencies, wired once in ``handlers/deps.py`` (fakes in tests)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from atende_shared.models.common import utc_now
from atende_shared.models.tenant import Tenant
from atende_shared.ports.messaging import EventPublisher
from atende_shared.ports.tenants import TenantStore
from atende_shared.whatsapp import WhatsAppSender
from functions.orders.dal.protocol import (
    CallSessions,
    HostResolver,
    JobQueue,
    OrderStore,
    Transcripts,
    WebhookPoster,
)

if TYPE_CHECKING:  # protocols that share a module with their DynamoDB implementation
    from atende_shared.dal.order_numbers import OrderNumberAllocator
    from atende_shared.ports.opt_outs import OptOutStore


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff of a failed delivery: ``base * 2^(n-1)`` capped at ``max_delay``, for
    ``max_attempts`` attempts (the defaults retry for about 2.5 hours), then dead-lettered."""

    base_seconds: int = 30
    max_delay_seconds: int = 900
    max_attempts: int = 15

    def delay_after(self, attempt: int) -> int:
        return int(min(self.max_delay_seconds, self.base_seconds * 2 ** max(0, attempt - 1)))


@dataclass(frozen=True)
class EndpointPolicy:
    """What an order-webhook URL may be: https only in AWS; http and loopback only locally."""

    allow_http: bool = False
    allow_loopback: bool = False
    max_endpoints: int = 10


@dataclass
class OrdersDeps:
    store: OrderStore
    numbers: OrderNumberAllocator
    tenants: TenantStore
    publisher: EventPublisher
    opt_outs: OptOutStore
    jobs: JobQueue
    poster: WebhookPoster
    sender_for: Callable[[Tenant], WhatsAppSender]
    resolve: HostResolver
    sessions: CallSessions | None = None
    transcripts: Transcripts | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    endpoints: EndpointPolicy = field(default_factory=EndpointPolicy)
    clock: Callable[[], datetime] = utc_now
    tenant_cache_seconds: float = 30.0
    presign_seconds: int = 300
    _tenant_cache: dict[str, tuple[float, Tenant]] = field(default_factory=dict, repr=False)

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant (NotFound when unknown), reused for a few seconds by a warm Lambda."""
        now = time.monotonic()
        cached = self._tenant_cache.get(tenant_id)
        if cached and now - cached[0] < self.tenant_cache_seconds:
            return cached[1]
        tenant = self.tenants.get_tenant(tenant_id)
        self._tenant_cache[tenant_id] = (now, tenant)
        return tenant
