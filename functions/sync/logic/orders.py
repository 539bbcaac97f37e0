"""Orders placed by the agent, written back to the tenant's ERP exactly once.

At-least-once delivery (SQS, EventBridge) meets an API without idempotency keys, so the
writer (1) skips orders already synced, (2) holds a per-order lease so two deliveries
cannot race, and (3) searches the target by the platform's order number before creating:
a crash between "created" and "recorded" is healed by the search on the next delivery.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import OrderPlaced
from atende_shared.models.common import utc_now
from atende_shared.observability import MetricUnit, logger, metrics
from functions.sync.logic.connectors.bling import BlingRefused
from functions.sync.logic.ports import CatalogRepository, Lock, OrderSyncRepository
from functions.sync.models.orders import OrderSync, OrderSyncStatus


class OrderTarget(Protocol):
    target: str

    def find(self, order_id: str) -> str | None: ...
    def create(self, order: OrderPlaced, product_ids: Mapping[str, str]) -> str: ...


class OrderBusy(DependencyUnavailable):
    """Another delivery of the same order holds the lease: retry later."""


class OrderRefused(DependencyUnavailable):
    """The target refused the order (bad contact, unknown product): recorded as failed and
    retried until the DLQ, so a fixed configuration can be replayed."""


@dataclass
class OrderWriter:
    records: OrderSyncRepository
    catalog: CatalogRepository
    lock_for: Callable[[str], Lock]
    target_for: Callable[[str], OrderTarget | None]

    def write(self, order: OrderPlaced) -> OrderSync:
        tenant_id, order_id = order.tenant_id, order.order_id
        existing = self.records.get(tenant_id, order_id)
        if existing and existing.status in (OrderSyncStatus.SYNCED, OrderSyncStatus.NOT_APPLICABLE):
            return existing
        target = self.target_for(tenant_id)
        if target is None:
            record = OrderSync(
                tenant_id=tenant_id,
                order_id=order_id,
                target="none",
                status=OrderSyncStatus.NOT_APPLICABLE,
            )
            self.records.put(record)
            return record
        lock = self.lock_for(tenant_id)
        lease = lock.acquire(f"order#{order_id}", ttl_seconds=90)
        if lease is None:
            raise OrderBusy(f"order {order_id} is being written by another delivery")
        try:
            record = self.records.get(tenant_id, order_id) or OrderSync(
                tenant_id=tenant_id, order_id=order_id, target=target.target
            )
            if record.status == OrderSyncStatus.SYNCED:
                return record
            record.attempts += 1
            try:
                external_id = target.find(order_id)
                if external_id is None:
                    stored = self.catalog.get_items(
                        tenant_id, [line.item_id for line in order.lines]
                    )
                    product_ids = {
                        item_id: s.item.source_id
                        for item_id, s in stored.items()
                        if s.item.source == target.target
                    }
                    external_id = target.create(order, product_ids)
                    metrics.add_metric(name="OrdersWrittenBack", unit=MetricUnit.Count, value=1)
            except BlingRefused as exc:
                record.status = OrderSyncStatus.FAILED
                record.last_error = str(exc)[:500]
                record.updated_at = utc_now()
                self.records.put(record)
                logger.error("ALERT order refused by the target", extra={"order_id": order_id})
                raise OrderRefused(str(exc)) from exc
            except Exception as exc:
                record.last_error = f"{type(exc).__name__}: {exc}"[:500]
                record.updated_at = utc_now()
                self.records.put(record)
                raise
            record.status = OrderSyncStatus.SYNCED
            record.external_id = external_id
            record.last_error = None
            record.updated_at = utc_now()
            self.records.put(record)
            return record
        finally:
            lock.release(f"order#{order_id}", lease)
