"""The sync admin API's logic: start runs, show runs (with quarantine), order status."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel

from atende_shared.errors import NotFound, ValidationFailed
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.models.tenant import CatalogSource
from atende_shared.ports.tenants import TenantStore
from functions.sync.logic.ports import JobQueue, OrderSyncRepository, RunRepository
from functions.sync.models.api import RunView
from functions.sync.models.catalog import Quarantined
from functions.sync.models.orders import OrderSync
from functions.sync.models.runs import SyncJob, SyncMode, SyncRun, new_run_id

PULL_SOURCES = {
    CatalogSource.BLING.value,
    CatalogSource.PLUGGTO.value,
    CatalogSource.MONGODB.value,
}


class StartRun(BaseModel):
    mode: Literal["incremental", "full"] = "incremental"
    allow_mass_deletion: bool = False


def _tenant(tenant_id: str) -> str:
    if not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise NotFound(f"tenant {tenant_id!r} not found")
    return tenant_id


def run_view(run: SyncRun, quarantine: list[Quarantined] | None = None) -> RunView:
    return RunView.of(run, quarantine)


def start_run(
    tenant_id: str, request: StartRun, *, tenants: TenantStore, runs: RunRepository, jobs: JobQueue
) -> SyncRun:
    tenant = tenants.get_tenant(_tenant(tenant_id))
    source = tenant.integrations.catalog_source.value
    if source not in PULL_SOURCES:
        raise ValidationFailed(
            f"tenant {tenant_id} catalog source is {source!r}:"
            f" only {sorted(PULL_SOURCES)} are pulled"
            " (push sources send snapshots to /v1/ingest)"
        )
    run = SyncRun(
        tenant_id=tenant_id,
        run_id=new_run_id(request.mode),
        source=source,
        mode=SyncMode(request.mode),
        allow_mass_deletion=request.allow_mass_deletion,
    )
    runs.create_run(run)
    job = SyncJob(tenant_id=tenant_id, mode=request.mode, run_id=run.run_id)
    jobs.send_job(tenant_id, job.model_dump_json(), dedupe_id=f"{run.run_id}-start")
    return run


def get_run(tenant_id: str, run_id: str, *, runs: RunRepository) -> RunView:
    run = runs.get_run(_tenant(tenant_id), run_id)
    if run is None:
        raise NotFound(f"sync run {run_id!r} not found")
    return run_view(run, runs.quarantine(tenant_id, run_id))


def list_runs(
    tenant_id: str, *, runs: RunRepository, limit: int = 20, after: dict[str, Any] | None = None
) -> tuple[list[RunView], dict[str, Any] | None]:
    """The newest runs first, and where the next page starts."""
    found, last = runs.list_runs(_tenant(tenant_id), limit=limit, after=after)
    return [run_view(r) for r in found], last


def order_sync(tenant_id: str, order_id: str, *, orders: OrderSyncRepository) -> OrderSync:
    record = orders.get(_tenant(tenant_id), order_id)
    if record is None:
        raise NotFound(f"no write-back recorded for order {order_id!r}")
    return record
