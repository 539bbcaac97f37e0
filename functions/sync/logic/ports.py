"""The interfaces sync logic depends on. DynamoDB/S3/Secrets Manager implementations live in
``functions.sync.dal``; tests of logic pass in-memory fakes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from functions.sync.models.catalog import CatalogItem, ItemState, Quarantined, StoredItem
from functions.sync.models.orders import OrderSync
from functions.sync.models.runs import SyncCounts, SyncRun


class CatalogRepository(Protocol):
    """Catalog items in the main table (the agent reads the same items as its menu)."""

    def states(self, tenant_id: str) -> dict[str, ItemState]:
        """Every stored item's diff state (hash, deleted flag), for a full mirror."""
        ...

    def get_items(self, tenant_id: str, item_ids: Iterable[str]) -> dict[str, StoredItem]:
        """The stored items among ``item_ids`` (missing ids are absent from the answer)."""
        ...

    def put_items(
        self,
        tenant_id: str,
        items: Sequence[CatalogItem],
        *,
        now: datetime,
        stock_at: Mapping[str, datetime] | None = None,
    ) -> None:
        """Write ``items`` (live, not deleted); durable when this returns."""
        ...

    def soft_delete(
        self, tenant_id: str, item_ids: Sequence[str], *, now: datetime, purge_at: datetime
    ) -> None:
        """Mark items unavailable and deleted; the table's TTL purges them at ``purge_at``."""
        ...


class RunRepository(Protocol):
    """Runs, their checkpoints, quarantine entries and the per-source cursors."""

    def create_run(self, run: SyncRun) -> bool:
        """Create ``run``; False when a run with that id already exists."""
        ...

    def get_run(self, tenant_id: str, run_id: str) -> SyncRun | None: ...
    def save_run(self, run: SyncRun) -> None: ...
    def list_runs(
        self, tenant_id: str, *, limit: int = 20, after: dict[str, Any] | None = None
    ) -> tuple[list[SyncRun], dict[str, Any] | None]:
        """The newest runs first, and where the next page starts (``None``: last page)."""
        ...

    def bump_counts(self, tenant_id: str, run_id: str, source: str, counts: SyncCounts) -> None:
        """Add to a long-lived run's counters (the daily webhook run), creating it if new."""
        ...

    def add_checkpoint(
        self, tenant_id: str, run_id: str, seq: str, seen: Sequence[tuple[str, str | None]]
    ) -> None:
        """Record the (item id, sku) pairs a durable page/batch of a snapshot contained."""
        ...

    def checkpoints(self, tenant_id: str, run_id: str) -> dict[str, list[tuple[str, str | None]]]:
        """Every checkpoint of a run: seq → (item id, sku) pairs."""
        ...

    def put_quarantine(
        self, tenant_id: str, run_id: str, entries: Sequence[Quarantined]
    ) -> None: ...

    def quarantine(self, tenant_id: str, run_id: str, *, limit: int = 100) -> list[Quarantined]: ...

    def get_cursor(self, tenant_id: str, source: str) -> datetime | None: ...
    def put_cursor(self, tenant_id: str, source: str, value: datetime) -> None: ...


class OrderSyncRepository(Protocol):
    def get(self, tenant_id: str, order_id: str) -> OrderSync | None: ...
    def put(self, record: OrderSync) -> None: ...


class Lock(Protocol):
    """A short exclusive lease (DynamoDB conditional write in production)."""

    def acquire(self, name: str, *, ttl_seconds: float) -> str | None:
        """A token when acquired, None when someone else holds the lease."""
        ...

    def release(self, name: str, token: str) -> None: ...


class IngestLedger(Protocol):
    """Which pushed batches were accepted at the edge and applied by the workers."""

    def accepted(self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str) -> bool: ...
    def mark_accepted(
        self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str
    ) -> None: ...

    def mark_applied(
        self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str, records: int
    ) -> None: ...

    def applied_count(self, tenant_id: str, stream: str, snapshot_id: str) -> int: ...


class BlobStore(Protocol):
    def put_json(self, key: str, data: Any) -> None: ...
    def get_json(self, key: str) -> Any: ...


class JobQueue(Protocol):
    """Sends sync jobs (JSON) on the catalog FIFO queue, grouped per tenant."""

    def send_job(self, tenant_id: str, body: str, *, dedupe_id: str) -> None: ...
