"""The sync engine: one engine, many connectors.

Every source ends up here as canonical records. The engine normalises them, quarantines
what is invalid (with the reason), writes only items whose content hash changed, and for a
full mirror sweeps what the source no longer has, only after a complete read and behind the
mass-deletion guard. Run state and cursors are saved only after the writes they cover
returned (durable), so a crash resumes from the last durable page: at-least-once delivery
of pages, idempotent application (the content hash turns a replay into no writes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from atende_shared.events import CatalogChanged
from atende_shared.models.common import utc_now
from atende_shared.observability import MetricUnit, logger, metrics
from atende_shared.ports.messaging import EventPublisher
from functions.sync.logic.connectors.base import PullConnector
from functions.sync.logic.normalise import item_id_for, normalise_batch
from functions.sync.logic.ports import CatalogRepository, RunRepository
from functions.sync.models.catalog import CatalogItem, ItemState
from functions.sync.models.runs import (
    RunStatus,
    SyncCounts,
    SyncMode,
    SyncRun,
    webhook_run_id,
)


@dataclass(frozen=True)
class EngineConfig:
    """Tunables (from settings in production)."""

    mass_delete_min: int = 25
    mass_delete_pct: float = 20.0
    retention: timedelta = timedelta(days=30)
    #: Incremental reads start this much before the last successful run's start, to cover
    #: clock skew between us and the source and records committed late.
    incremental_overlap: timedelta = timedelta(minutes=5)
    #: First incremental run without a cursor reads this far back.
    first_incremental_window: timedelta = timedelta(days=1)


class SliceOutcome(StrEnum):
    DONE = "done"
    CONTINUE = "continue"  # out of time: the caller re-enqueues the same run
    SKIPPED = "skipped"  # the run was already finished (duplicate job)


@dataclass
class ApplyOutcome:
    counts: SyncCounts = field(default_factory=SyncCounts)
    seen: list[tuple[str, str | None]] = field(default_factory=list)
    upserted_ids: list[str] = field(default_factory=list)


class GuardTripped(Exception):
    """The sweep would delete too much; nothing was deleted."""

    def __init__(self, details: dict[str, Any]) -> None:
        super().__init__(f"mass-deletion guard tripped: {details}")
        self.details = details


def deletion_threshold(live: int, config: EngineConfig) -> int:
    """The most items a sweep may delete: max(N, X% of the live catalog)."""
    return max(config.mass_delete_min, math.floor(live * config.mass_delete_pct / 100))


class CatalogEngine:
    def __init__(
        self,
        *,
        catalog: CatalogRepository,
        runs: RunRepository,
        events: EventPublisher | None,
        config: EngineConfig | None = None,
        clock: Callable[[], datetime] = utc_now,
        correlation_id: str = "sync",
    ) -> None:
        self.catalog = catalog
        self.runs = runs
        self.events = events
        self.config = config or EngineConfig()
        self.clock = clock
        self.correlation_id = correlation_id

    # -- applying records ----------------------------------------------------------------

    def apply(
        self,
        tenant_id: str,
        source: str,
        records: Sequence[Mapping[str, Any]],
        *,
        run_id: str,
        known: dict[str, ItemState] | None = None,
        live_skus: dict[str, str] | None = None,
    ) -> ApplyOutcome:
        """Normalise, quarantine and write what changed. ``known`` (full mirror) is the
        in-memory state of the whole catalog; without it, states are fetched per page."""
        batch = normalise_batch(source, records, live_skus=live_skus)
        outcome = ApplyOutcome()
        outcome.counts.read = len(records)
        if batch.quarantined:
            self.runs.put_quarantine(tenant_id, run_id, batch.quarantined)
            outcome.counts.quarantined = len(batch.quarantined)
            metrics.add_metric(
                name="SyncRecordsQuarantined", unit=MetricUnit.Count, value=len(batch.quarantined)
            )
        if known is None:
            stored = self.catalog.get_items(tenant_id, [i.item_id for i in batch.items])
            states = {k: v.state for k, v in stored.items()}
        else:
            states = known
        changed: list[CatalogItem] = []
        for item in batch.items:
            state = states.get(item.item_id)
            digest = item.content_hash()
            if state is None:
                outcome.counts.created += 1
            elif state.deleted or state.content_hash != digest:
                outcome.counts.updated += 1
            else:
                outcome.counts.unchanged += 1
                continue
            changed.append(item)
        if changed:
            self.catalog.put_items(tenant_id, changed, now=self.clock())
            outcome.upserted_ids = [i.item_id for i in changed]
        if known is not None:
            for item in changed:
                known[item.item_id] = ItemState(
                    item_id=item.item_id, content_hash=item.content_hash(), source=source
                )
        outcome.seen = [(i.item_id, i.sku) for i in batch.items] + [
            (item_id, None) for item_id in batch.quarantined_item_ids
        ]
        return outcome

    def remove(
        self,
        tenant_id: str,
        source: str,
        source_ids: Iterable[str],
        *,
        known: dict[str, ItemState] | None = None,
    ) -> int:
        """Soft-delete items the source explicitly says are gone (Bling ``E``, a delete
        webhook). No guard: these are per-record statements, not inferred absences."""
        ids = [item_id_for(source, s) for s in source_ids]
        if not ids:
            return 0
        if known is None:
            states = {k: v.state for k, v in self.catalog.get_items(tenant_id, ids).items()}
        else:
            states = known
        live = [i for i in ids if i in states and not states[i].deleted]
        if live:
            now = self.clock()
            self.catalog.soft_delete(tenant_id, live, now=now, purge_at=now + self.config.retention)
            if known is not None:
                for item_id in live:
                    known[item_id] = ItemState(item_id=item_id, source=source, deleted=True)
        return len(live)

    def patch_stock(
        self,
        tenant_id: str,
        source: str,
        balances: Mapping[str, float | int | None],
        *,
        at: datetime | None = None,
    ) -> SyncCounts:
        """Set the stock of existing items (by source id). With ``at``, a balance older than
        the one stored is ignored: stock webhooks arrive reordered."""
        counts = SyncCounts(read=len(balances))
        ids = {item_id_for(source, sid): value for sid, value in balances.items()}
        stored = self.catalog.get_items(tenant_id, ids.keys())
        changed: list[CatalogItem] = []
        stamps: dict[str, datetime] = {}
        for item_id, value in ids.items():
            current = stored.get(item_id)
            if current is None or current.state.deleted:
                counts.unchanged += 1  # unknown item: the next catalog read brings it
                continue
            if at is not None and current.state.stock_at and current.state.stock_at > at:
                counts.unchanged += 1
                continue
            stock = None if value is None else max(0, math.floor(float(value)))
            updated = current.item.with_stock(stock)
            if updated.content_hash() == current.state.content_hash:
                counts.unchanged += 1
                continue
            changed.append(updated)
            if at is not None:
                stamps[item_id] = at
        if changed:
            self.catalog.put_items(tenant_id, changed, now=self.clock(), stock_at=stamps)
            counts.updated = len(changed)
        return counts

    # -- the full-mirror sweep -------------------------------------------------------------

    def sweep(
        self,
        tenant_id: str,
        source: str,
        seen: set[str],
        known: dict[str, ItemState],
        *,
        allow_mass_deletion: bool = False,
    ) -> int:
        """Soft-delete this source's live items the snapshot did not contain.

        Raises :class:`GuardTripped` (deleting nothing) when the snapshot is empty or the
        deletions exceed max(N, X%) of the live catalog, unless an admin allowed it.
        """
        live = [s for s in known.values() if s.source == source and not s.deleted]
        doomed = [s.item_id for s in live if s.item_id not in seen]
        if not doomed:
            return 0
        threshold = deletion_threshold(len(live), self.config)
        if not allow_mass_deletion and (not seen or len(doomed) > threshold):
            details = {
                "reason": "empty snapshot" if not seen else "too many deletions",
                "live_items": len(live),
                "snapshot_items": len(seen),
                "would_delete": len(doomed),
                "threshold": threshold,
            }
            metrics.add_metric(name="SyncMassDeletionGuardTripped", unit=MetricUnit.Count, value=1)
            logger.error(
                "ALERT mass-deletion guard tripped", extra={"tenant_id": tenant_id, **details}
            )
            raise GuardTripped(details)
        now = self.clock()
        for start in range(0, len(doomed), 500):
            chunk = doomed[start : start + 500]
            self.catalog.soft_delete(
                tenant_id, chunk, now=now, purge_at=now + self.config.retention
            )
        for item_id in doomed:
            known[item_id] = ItemState(item_id=item_id, source=source, deleted=True)
        return len(doomed)

    # -- events ----------------------------------------------------------------------------

    def announce(self, tenant_id: str, source: str, counts: SyncCounts, version: str) -> None:
        """Publish ``CatalogChanged`` when something the agent sees changed."""
        if self.events is None or (counts.upserted == 0 and counts.deleted == 0):
            return
        self.events.publish(
            [
                CatalogChanged(
                    tenant_id=tenant_id,
                    correlation_id=self.correlation_id,
                    source=source,
                    items_upserted=counts.upserted,
                    items_removed=counts.deleted,
                    menu_version=version[:64],
                )
            ]
        )

    def record_webhook_counts(self, tenant_id: str, source: str, counts: SyncCounts) -> None:
        """Fast-path changes are counted in a daily run, visible next to scheduled runs."""
        self.runs.bump_counts(tenant_id, webhook_run_id(self.clock()), source, counts)

    # -- pull runs -------------------------------------------------------------------------

    def snapshot_so_far(self, tenant_id: str, run_id: str) -> tuple[set[str], dict[str, str]]:
        """What a run's durable checkpoints hold: the item ids seen so far, and the SKU map
        (sku → item id, the first checkpointed item keeping a SKU) spanning the snapshot."""
        seen: set[str] = set()
        live_skus: dict[str, str] = {}
        for pairs in self.runs.checkpoints(tenant_id, run_id).values():
            for item_id, sku in pairs:
                seen.add(item_id)
                if sku:
                    live_skus.setdefault(sku, item_id)
        return seen, live_skus

    def run_pull(
        self,
        tenant_id: str,
        run_id: str,
        connector: PullConnector,
        *,
        out_of_time: Callable[[], bool] = lambda: False,
    ) -> SliceOutcome:
        """Run (or resume) a pull run until it finishes or ``out_of_time()``."""
        run = self.runs.get_run(tenant_id, run_id)
        if run is None:
            raise LookupError(f"run {run_id} of {tenant_id} does not exist")
        if run.status.terminal:
            return SliceOutcome.SKIPPED
        now = self.clock()
        if run.status == RunStatus.QUEUED:
            run.status = RunStatus.RUNNING
            run.started_at = now
            if run.mode == SyncMode.INCREMENTAL:
                cursor = self.runs.get_cursor(tenant_id, connector.source)
                run.since = (
                    cursor - self.config.incremental_overlap
                    if cursor
                    else now - self.config.first_incremental_window
                )
            self.runs.save_run(run)
        full = run.mode == SyncMode.FULL
        known: dict[str, ItemState] | None = None
        seen: set[str] = set()
        live_skus: dict[str, str] | None = None
        if full:
            known = self.catalog.states(tenant_id)
            seen, live_skus = self.snapshot_so_far(tenant_id, run_id)
        slice_counts = SyncCounts()
        try:
            while True:
                if out_of_time():
                    self.announce(tenant_id, connector.source, slice_counts, run_id)
                    return SliceOutcome.CONTINUE
                page = connector.read_page(
                    mode="full" if full else "incremental", page=run.next_page, since=run.since
                )
                outcome = self.apply(
                    tenant_id,
                    connector.source,
                    page.records,
                    run_id=run_id,
                    known=known,
                    live_skus=live_skus,
                )
                if page.removed and not full:
                    outcome.counts.deleted += self.remove(tenant_id, connector.source, page.removed)
                if full:
                    # Only live records count as seen: an E product must be swept.
                    self.runs.add_checkpoint(
                        tenant_id, run_id, f"{run.next_page:07d}", outcome.seen
                    )
                    seen.update(i for i, _ in outcome.seen)
                # The page's writes returned: now (and only now) the run may move past it.
                run.counts = run.counts.add(outcome.counts)
                slice_counts = slice_counts.add(outcome.counts)
                run.pages_read += 1
                run.next_page += 1
                self.runs.save_run(run)
                if not page.has_more:
                    break
            if full:
                assert known is not None
                try:
                    deleted = self.sweep(
                        tenant_id,
                        connector.source,
                        seen,
                        known,
                        allow_mass_deletion=run.allow_mass_deletion,
                    )
                except GuardTripped as exc:
                    run.status = RunStatus.GUARDED
                    run.guard = exc.details
                    run.add_error(str(exc))
                    run.finished_at = self.clock()
                    self.runs.save_run(run)
                    self.announce(tenant_id, connector.source, slice_counts, run_id)
                    return SliceOutcome.DONE
                run.counts.deleted += deleted
                slice_counts.deleted += deleted
            else:
                # The cursor moves only after every page of the run is durable.
                assert run.started_at is not None
                self.runs.put_cursor(tenant_id, connector.source, run.started_at)
            run.status = RunStatus.SUCCEEDED
            run.finished_at = self.clock()
            self.runs.save_run(run)
        except Exception as exc:
            # Keep the run resumable (status RUNNING) and record the error; the job message
            # is redelivered and the next attempt starts at run.next_page.
            run.add_error(f"{type(exc).__name__}: {exc}")
            self.runs.save_run(run)
            raise
        self.announce(tenant_id, connector.source, slice_counts, run_id)
        metrics.add_metric(name="SyncRunsSucceeded", unit=MetricUnit.Count, value=1)
        return SliceOutcome.DONE

    # -- pushed snapshots ------------------------------------------------------------------

    def ensure_run(self, run: SyncRun) -> SyncRun:
        existing = self.runs.get_run(run.tenant_id, run.run_id)
        if existing is not None:
            return existing
        run.status = RunStatus.RUNNING
        run.started_at = self.clock()
        if not self.runs.create_run(run):
            found = self.runs.get_run(run.tenant_id, run.run_id)
            assert found is not None
            return found
        return run
