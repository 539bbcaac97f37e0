"""Scheduled fan-out: one sync job per tenant with a pull source (incremental or full)."""

from __future__ import annotations

from typing import Any

from atende_shared.dal.tenants import tenant_store
from atende_shared.observability import instrumented, logger
from atende_shared.settings import load_settings
from functions.sync.dal.aws_io import SqsJobQueue
from functions.sync.logic.scheduler import fan_out
from functions.sync.settings import SchedulerSettings


def _mode(event: dict[str, Any]) -> str:
    detail = event.get("detail") if isinstance(event.get("detail"), dict) else {}
    mode = event.get("mode") or (detail or {}).get("mode") or "incremental"
    return "full" if mode == "full" else "incremental"


@instrumented(SchedulerSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(SchedulerSettings)
    sent = fan_out(
        _mode(event),
        tenants=tenant_store(settings.main_table),
        jobs=SqsJobQueue(settings.catalog_queue_url, correlation_id="schedule"),
    )
    logger.info("sync jobs fanned out", extra={"jobs": len(sent), "mode": _mode(event)})
    return {"jobs": len(sent), "run_ids": sent}
