"""The scheduled fan-out: which tenants get a sync job, and the job's id."""

from __future__ import annotations

from datetime import datetime

from atende_shared.models.common import utc_now
from atende_shared.models.tenant import TenantStatus
from atende_shared.ports.tenants import TenantStore, iter_tenants
from functions.sync.logic.admin import PULL_SOURCES
from functions.sync.logic.ports import JobQueue
from functions.sync.models.runs import SyncJob, new_run_id


def fan_out(
    mode: str, *, tenants: TenantStore, jobs: JobQueue, now: datetime | None = None
) -> list[str]:
    moment = now or utc_now()
    # One job per tenant and time slot: a schedule fired twice in the same minute (at-least-
    # once) sends one job, thanks to the FIFO queue's deduplication id.
    slot = f"{moment:%Y%m%d%H%M}"
    sent: list[str] = []
    for tenant in iter_tenants(tenants):
        if tenant.status != TenantStatus.ACTIVE:
            continue
        if tenant.integrations.catalog_source.value not in PULL_SOURCES:
            continue
        run_id = new_run_id(mode, moment)
        job = SyncJob(tenant_id=tenant.tenant_id, mode=mode, run_id=run_id)
        jobs.send_job(tenant.tenant_id, job.model_dump_json(), dedupe_id=f"sched-{mode}-{slot}")
        sent.append(run_id)
    return sent
