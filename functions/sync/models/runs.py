"""Sync runs, their counters, and the jobs that travel on the catalog queue."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId, utc_now

RUN_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,99}$"
SNAPSHOT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}$"
STREAM_PATTERN = r"^(catalog|stock)$"

RunId = Annotated[str, Field(pattern=RUN_ID_PATTERN)]


class SyncMode(StrEnum):
    INCREMENTAL = "incremental"
    FULL = "full"
    WEBHOOK = "webhook"  # the daily bucket webhook fast-path changes are counted in
    PUSH = "push"  # a snapshot pushed to the ingestion endpoint


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    #: The mass-deletion guard refused the sweep: catalog left intact, an alert raised.
    GUARDED = "guarded"

    @property
    def terminal(self) -> bool:
        return self in {RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.GUARDED}


class SyncCounts(BaseModel):
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    quarantined: int = 0

    def add(self, other: SyncCounts) -> SyncCounts:
        return SyncCounts(
            **{k: getattr(self, k) + getattr(other, k) for k in SyncCounts.model_fields}
        )

    @property
    def upserted(self) -> int:
        return self.created + self.updated


def new_run_id(mode: str, now: datetime | None = None) -> str:
    """Sortable run id: newest last in the table, so listings read backwards."""
    moment = now or utc_now()
    return f"{moment:%Y%m%dT%H%M%S}-{mode}-{secrets.token_hex(3)}"


class SyncRun(BaseModel):
    """One run of a connector for a tenant; the API shows it, a crash resumes from it."""

    tenant_id: TenantId
    run_id: RunId
    source: str
    mode: SyncMode
    status: RunStatus = RunStatus.QUEUED
    counts: SyncCounts = Field(default_factory=SyncCounts)
    #: Pull runs: the next page to read (pages before it are durable).
    next_page: int = Field(1, ge=1)
    pages_read: int = 0
    #: Incremental runs: the lower bound asked of the source (fixed for the run's life).
    since: AwareDatetime | None = None
    allow_mass_deletion: bool = False
    errors: list[str] = Field(default_factory=list, max_length=20)
    guard: dict[str, Any] | None = None
    created_at: AwareDatetime = Field(default_factory=utc_now)
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utc_now()
        return round((end - self.started_at).total_seconds(), 3)

    def add_error(self, message: str) -> None:
        self.errors = [*self.errors, message[:500]][-20:]


class SyncJob(BaseModel):
    """Run (or continue) a pull sync. Sent by the scheduler and the sync-runs API."""

    model_config = ConfigDict(frozen=True)

    job: Literal["sync"] = "sync"
    tenant_id: TenantId
    mode: Literal["incremental", "full"]
    run_id: RunId


class IngestBatchJob(BaseModel):
    """Apply one pushed batch (its records wait in S3)."""

    model_config = ConfigDict(frozen=True)

    job: Literal["ingest_batch"] = "ingest_batch"
    tenant_id: TenantId
    stream: Annotated[str, Field(pattern=STREAM_PATTERN)]
    snapshot_id: Annotated[str, Field(pattern=SNAPSHOT_ID_PATTERN)]
    batch_id: Annotated[str, Field(pattern=SNAPSHOT_ID_PATTERN)]
    object_key: str


class IngestCompleteJob(BaseModel):
    """Close a pushed snapshot: check every batch is applied, then sweep."""

    model_config = ConfigDict(frozen=True)

    job: Literal["ingest_complete"] = "ingest_complete"
    tenant_id: TenantId
    stream: Annotated[str, Field(pattern=STREAM_PATTERN)]
    snapshot_id: Annotated[str, Field(pattern=SNAPSHOT_ID_PATTERN)]
    batch_count: int = Field(ge=0)


def push_run_id(stream: str, snapshot_id: str) -> str:
    return f"push-{stream}-{snapshot_id}"


def webhook_run_id(now: datetime | None = None) -> str:
    return f"webhooks-{(now or utc_now()):%Y%m%d}"
