"""What the catalog queue consumer does with one message.

The catalog FIFO queue (grouped per tenant) carries two kinds of bodies: an
``InboundEvent`` from webhook ingress (Bling, Plugg.to, custom) and the jobs sync sends
itself (``SyncJob``, ``IngestBatchJob``, ``IngestCompleteJob``: JSON with a ``job`` key).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from pydantic import ValidationError

from atende_shared.errors import MalformedRequest
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.observability import logger
from functions.sync.logic.connectors.base import PullConnector
from functions.sync.logic.engine import CatalogEngine, GuardTripped, SliceOutcome
from functions.sync.logic.ports import BlobStore, IngestLedger, JobQueue
from functions.sync.models.runs import (
    IngestBatchJob,
    IngestCompleteJob,
    RunStatus,
    SyncCounts,
    SyncJob,
    SyncMode,
    SyncRun,
    push_run_id,
    webhook_run_id,
)


class IncompleteSnapshot(Exception):
    """``complete`` arrived before every batch was applied: retried, never swept early."""


class WebhookReader(Protocol):
    """What the fast path needs from a connector: re-read one record, read balances."""

    source: str

    def read_product(self, product_id: str) -> dict[str, Any] | None: ...
    def balances(self, product_ids: list[str]) -> dict[str, float]: ...


@dataclass
class CatalogWorker:
    engine: CatalogEngine
    connector_for: Callable[[str, str], PullConnector]
    reader_for: Callable[[str, str], WebhookReader]
    blobs: BlobStore
    ledger: IngestLedger
    jobs: JobQueue
    out_of_time: Callable[[], bool] = lambda: False

    # -- dispatch --------------------------------------------------------------------------

    def handle(self, body: str) -> str:
        try:
            data = json.loads(body)
        except json.JSONDecodeError as exc:
            raise MalformedRequest("catalog message is not JSON") from exc
        if not isinstance(data, dict):
            raise MalformedRequest("catalog message is not an object")
        try:
            match data.get("job"):
                case "sync":
                    return self.sync(SyncJob.model_validate(data))
                case "ingest_batch":
                    return self.ingest_batch(IngestBatchJob.model_validate(data))
                case "ingest_complete":
                    return self.ingest_complete(IngestCompleteJob.model_validate(data))
                case None:
                    return self.inbound(InboundEvent.model_validate(data))
                case other:
                    raise MalformedRequest(f"unknown job {other!r}")
        except ValidationError as exc:
            raise MalformedRequest(f"invalid catalog message: {exc.errors()[:3]}") from exc

    # -- pull runs -------------------------------------------------------------------------

    def sync(self, job: SyncJob) -> str:
        run = self.engine.runs.get_run(job.tenant_id, job.run_id)
        connector: PullConnector | None = None
        if run is None:
            # A scheduled job names a fresh run id: create it here (admin runs exist already).
            connector = self.connector_for(job.tenant_id, "")
            self.engine.runs.create_run(
                SyncRun(
                    tenant_id=job.tenant_id,
                    run_id=job.run_id,
                    source=connector.source,
                    mode=SyncMode(job.mode),
                )
            )
            run = self.engine.runs.get_run(job.tenant_id, job.run_id)
            assert run is not None
        if connector is None or connector.source != run.source:
            connector = self.connector_for(job.tenant_id, run.source)
        outcome = self.engine.run_pull(
            job.tenant_id, job.run_id, connector, out_of_time=self.out_of_time
        )
        if outcome == SliceOutcome.CONTINUE:
            current = self.engine.runs.get_run(job.tenant_id, job.run_id)
            page = current.next_page if current else 0
            self.jobs.send_job(
                job.tenant_id, job.model_dump_json(), dedupe_id=f"{job.run_id}#{page}"
            )
        return outcome.value

    # -- pushed snapshots ------------------------------------------------------------------

    def _push_run(self, tenant_id: str, stream: str, snapshot_id: str) -> SyncRun:
        return self.engine.ensure_run(
            SyncRun(
                tenant_id=tenant_id,
                run_id=push_run_id(stream, snapshot_id),
                source="push",
                mode=SyncMode.PUSH,
            )
        )

    def ingest_batch(self, job: IngestBatchJob) -> str:
        run = self._push_run(job.tenant_id, job.stream, job.snapshot_id)
        if run.status.terminal:
            logger.info("batch for a closed snapshot ignored", extra={"run_id": run.run_id})
            return "skipped"
        payload = self.blobs.get_json(job.object_key)
        records: list[Mapping[str, Any]] = list(payload.get("records", []))
        if job.stream == "stock":
            balances = {
                str(r.get("source_id")): r.get("stock") for r in records if r.get("source_id")
            }
            counts = self.engine.patch_stock(job.tenant_id, "push", balances)
            seen: list[tuple[str, str | None]] = []
        else:
            # The SKU map spans the snapshot: rebuilt from the batches already applied.
            _, live_skus = self.engine.snapshot_so_far(job.tenant_id, run.run_id)
            outcome = self.engine.apply(
                job.tenant_id, "push", records, run_id=run.run_id, live_skus=live_skus
            )
            counts, seen = outcome.counts, outcome.seen
            self.engine.runs.add_checkpoint(job.tenant_id, run.run_id, job.batch_id, seen)
        self.ledger.mark_applied(
            job.tenant_id, job.stream, job.snapshot_id, job.batch_id, len(records)
        )
        self.engine.runs.bump_counts(job.tenant_id, run.run_id, "push", counts)
        self.engine.announce(job.tenant_id, "push", counts, run.run_id)
        return "applied"

    def ingest_complete(self, job: IngestCompleteJob) -> str:
        run = self._push_run(job.tenant_id, job.stream, job.snapshot_id)
        if run.status.terminal:
            return "skipped"
        applied = self.ledger.applied_count(job.tenant_id, job.stream, job.snapshot_id)
        if applied < job.batch_count:
            raise IncompleteSnapshot(
                f"snapshot {job.snapshot_id}: {applied} of {job.batch_count} batches applied"
            )
        run = self.engine.runs.get_run(job.tenant_id, run.run_id) or run
        deleted = 0
        if job.stream == "catalog":
            seen, _ = self.engine.snapshot_so_far(job.tenant_id, run.run_id)
            known = self.engine.catalog.states(job.tenant_id)
            try:
                deleted = self.engine.sweep(
                    job.tenant_id, "push", seen, known, allow_mass_deletion=run.allow_mass_deletion
                )
            except GuardTripped as exc:
                run.status = RunStatus.GUARDED
                run.guard = exc.details
                run.add_error(str(exc))
                run.finished_at = self.engine.clock()
                self.engine.runs.save_run(run)
                return "guarded"
        run.counts.deleted += deleted
        run.status = RunStatus.SUCCEEDED
        run.finished_at = self.engine.clock()
        self.engine.runs.save_run(run)
        self.engine.announce(job.tenant_id, "push", SyncCounts(deleted=deleted), run.run_id)
        return "completed"

    # -- webhook fast path -----------------------------------------------------------------

    def inbound(self, event: InboundEvent) -> str:
        if event.tenant_id is None:
            raise MalformedRequest("catalog event without a tenant")
        tenant_id = event.tenant_id
        match event.provider:
            case Provider.BLING:
                counts = self._bling(tenant_id, event.payload)
                source = "bling"
            case Provider.PLUGGTO:
                counts = self._pluggto(tenant_id, event.payload)
                source = "pluggto"
            case Provider.CUSTOM:
                counts = self._custom(tenant_id, event.type, event.payload)
                source = "custom"
            case _:
                logger.warning(
                    "catalog event from an unexpected provider", extra={"provider": event.provider}
                )
                return "ignored"
        if counts is None:
            return "ignored"
        self.engine.record_webhook_counts(tenant_id, source, counts)
        self.engine.announce(tenant_id, source, counts, f"{source}-{event.provider_event_id}")
        return "applied"

    def _apply_one(self, tenant_id: str, reader: WebhookReader, record_id: str) -> SyncCounts:
        record = reader.read_product(record_id)
        if record is None:
            deleted = self.engine.remove(tenant_id, reader.source, [record_id])
            return SyncCounts(read=1, deleted=deleted)
        return self.engine.apply(
            tenant_id, reader.source, [record], run_id=webhook_run_id(self.engine.clock())
        ).counts

    def _bling(self, tenant_id: str, body: Mapping[str, Any]) -> SyncCounts | None:
        name = str(body.get("event", ""))
        data = body.get("data") or {}
        resource, _, action = name.partition(".")
        if resource == "product":
            pid = str(data.get("id", ""))
            if not pid:
                raise MalformedRequest("product event without an id")
            if action == "deleted":
                return SyncCounts(read=1, deleted=self.engine.remove(tenant_id, "bling", [pid]))
            # Webhooks arrive duplicated and out of order: re-reading the product applies
            # its current state whatever the order; the hash makes duplicates free.
            return self._apply_one(tenant_id, self.reader_for(tenant_id, "bling"), pid)
        if resource in ("stock", "virtual_stock"):
            product = data.get("produto") or {}
            pid = str(product.get("id", ""))
            if not pid:
                raise MalformedRequest("stock event without a product id")
            if data.get("vinculoComplexo"):
                # A composed product's balance derives from its parts: ask for the real one.
                balance = self.reader_for(tenant_id, "bling").balances([pid]).get(pid)
                return self.engine.patch_stock(tenant_id, "bling", {pid: balance})
            # The sellable balance is the virtual one (physical minus reserved); Bling's stock
            # events may carry only the physical total (``saldoFisicoTotal``), and then that
            # is the balance. With neither, the balance is read back from Bling.
            raw = data.get("saldoVirtualTotal")
            if raw is None:
                raw = data.get("saldoFisicoTotal")
            if raw is None:
                balance = self.reader_for(tenant_id, "bling").balances([pid]).get(pid)
                return self.engine.patch_stock(tenant_id, "bling", {pid: balance})
            if isinstance(raw, bool) or not isinstance(raw, int | float | str):
                raise MalformedRequest(f"stock balance is not a number: {raw!r}")
            try:
                value = float(raw)
            except ValueError as exc:
                raise MalformedRequest(f"stock balance is not a number: {raw!r}") from exc
            if not math.isfinite(value):
                raise MalformedRequest(f"stock balance is not finite: {raw!r}")
            at = _event_time(body.get("date"))
            return self.engine.patch_stock(tenant_id, "bling", {pid: value}, at=at)
        logger.info("Bling event not used by catalog sync", extra={"event": name})
        return None

    def _pluggto(self, tenant_id: str, body: Mapping[str, Any]) -> SyncCounts | None:
        kind = str(body.get("type", "")).lower()
        record_id = str(body.get("id", ""))
        if kind not in ("products", "product", "skus", "sku") or not record_id:
            logger.info("Plugg.to notification not used by catalog sync", extra={"type": kind})
            return None
        # Notifications carry only ids: the record is always re-read.
        return self._apply_one(tenant_id, self.reader_for(tenant_id, "pluggto"), record_id)

    def _custom(self, tenant_id: str, kind: str, body: Mapping[str, Any]) -> SyncCounts | None:
        # Ingress keeps the whole signed body ``{type, data, timestamp}``; the records are in
        # ``data``.
        data = body.get("data")
        payload: Mapping[str, Any] = data if isinstance(data, Mapping) else body
        run_id = f"custom-{self.engine.clock():%Y%m%d}"
        if kind in ("catalog.upsert", "catalog.updated", "catalog.created"):
            records = payload.get("records") or [payload.get("record") or payload]
            return self.engine.apply(tenant_id, "custom", records, run_id=run_id).counts
        if kind in ("catalog.delete", "catalog.deleted"):
            ids = [str(i) for i in payload.get("ids") or [payload.get("source_id")] if i]
            return SyncCounts(read=len(ids), deleted=self.engine.remove(tenant_id, "custom", ids))
        if kind.startswith("stock."):
            balances = payload.get("balances") or {
                str(payload.get("source_id")): payload.get("stock")
            }
            return self.engine.patch_stock(
                tenant_id, "custom", balances, at=_event_time(payload.get("at"))
            )
        logger.info("custom event not used by catalog sync", extra={"type": kind})
        return None


def _event_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        return None
