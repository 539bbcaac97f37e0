"""Tenant, agent config and menu for a call, cached per tenant.

Loading three items from DynamoDB on every call would add tens of milliseconds before the
greeting; a busy tenant gets many calls a minute. Entries live ``ttl`` seconds (default 30)
and are dropped at once by :meth:`TenantCache.invalidate` — which
:meth:`TenantCache.on_event` calls for ``CatalogChanged``, ``TenantSuspended`` and
``TenantResumed``.

How the worker hears of those events in AWS: it does not subscribe. A Fargate task has no
per-task EventBridge target short of one SQS queue per task, so staleness is bounded by the
TTL instead (a menu change or a suspension reaches new calls within 30 s; set
``ATENDE_MENU_CACHE_TTL_SECONDS=0`` to read through). The hook is there for a future
subscriber and for the local call, which reads fresh data every time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

from atende_shared.dal.tenants import TenantStore
from atende_shared.events import CatalogChanged, DomainEvent, TenantResumed, TenantSuspended
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.ordering.catalog import MenuIndex

_INVALIDATING = (CatalogChanged, TenantSuspended, TenantResumed)


@dataclass(frozen=True)
class TenantBundle:
    tenant: Tenant
    agent_config: AgentConfig
    menu: Menu

    @cached_property
    def index(self) -> MenuIndex:
        """The menu's matching index, shared by every call while the bundle is cached."""
        return MenuIndex(self.menu)


class TenantCache:
    """Read-through cache of :class:`TenantBundle` per tenant id (thread-safe)."""

    def __init__(
        self,
        store: Callable[[], TenantStore],
        *,
        ttl_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[str, tuple[float, TenantBundle]] = {}
        self._lock = threading.Lock()
        self.loads = 0

    def get(self, tenant_id: str) -> TenantBundle:
        """The tenant's bundle, loaded from the store when absent or older than the TTL."""
        now = self._clock()
        with self._lock:
            cached = self._entries.get(tenant_id)
        if cached is not None and now - cached[0] < self._ttl:
            return cached[1]
        store = self._store()
        bundle = TenantBundle(
            tenant=store.get_tenant(tenant_id),
            agent_config=store.get_agent_config(tenant_id),
            menu=store.get_menu(tenant_id),
        )
        bundle.index  # noqa: B018 - built here, off the call's event loop (get runs in a thread)
        with self._lock:
            self._entries[tenant_id] = (now, bundle)
            self.loads += 1
        return bundle

    def invalidate(self, tenant_id: str) -> None:
        with self._lock:
            self._entries.pop(tenant_id, None)

    def on_event(self, event: DomainEvent) -> bool:
        """Drop the tenant's entry for events that change what a call sees; True if so."""
        if isinstance(event, _INVALIDATING):
            self.invalidate(event.tenant_id)
            return True
        return False
