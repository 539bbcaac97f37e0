"""Answers of the sync admin API."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from atende_shared.models.common import AwareDatetime
from functions.sync.models.catalog import Quarantined
from functions.sync.models.runs import RunStatus, SyncCounts, SyncMode, SyncRun


class RunProgress(BaseModel):
    """What a progress display needs while the run is going (sources do not announce their
    size up front, so this is work done, not a percentage)."""

    pages_read: int
    records_read: int
    running: bool


class RunView(BaseModel):
    """One sync run: counts, progress, errors and (on the single-run route) quarantine."""

    tenant_id: str
    run_id: str
    source: str
    mode: SyncMode
    status: RunStatus
    counts: SyncCounts
    next_page: int
    pages_read: int
    since: AwareDatetime | None = None
    allow_mass_deletion: bool = False
    errors: list[str] = Field(default_factory=list)
    guard: dict[str, Any] | None = None
    created_at: AwareDatetime
    started_at: AwareDatetime | None = None
    finished_at: AwareDatetime | None = None
    duration_seconds: float | None = None
    progress: RunProgress
    quarantine: list[Quarantined] | None = None

    @classmethod
    def of(cls, run: SyncRun, quarantine: list[Quarantined] | None = None) -> RunView:
        return cls(
            **run.model_dump(),
            duration_seconds=run.duration_seconds,
            progress=RunProgress(
                pages_read=run.pages_read,
                records_read=run.counts.read,
                running=not run.status.terminal,
            ),
            quarantine=quarantine,
        )
