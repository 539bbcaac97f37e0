"""Scheduled reconcile: DynamoDB vs LiveKit, repair drift, report (and maybe delete) orphans."""

from __future__ import annotations

import asyncio
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.observability import MetricUnit, instrumented, logger, metrics
from atende_shared.settings import load_settings
from functions.provision.handlers.deps import sip_deps
from functions.provision.logic.reconcile import ReconcileReport, reconcile
from functions.provision.settings import ReconcileSettings


async def _run(settings: ReconcileSettings) -> ReconcileReport:
    async with sip_deps(settings) as deps:
        return await reconcile(deps, delete_orphans=settings.reconcile_delete_orphans)


@instrumented(ReconcileSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = asyncio.run(_run(load_settings(ReconcileSettings)))
    metrics.add_metric(name="SipDriftRepaired", unit=MetricUnit.Count, value=len(report.repairs))
    metrics.add_metric(name="SipOrphans", unit=MetricUnit.Count, value=len(report.orphans))
    metrics.add_metric(name="SipReconcileErrors", unit=MetricUnit.Count, value=len(report.errors))
    result = report.as_dict()
    logger.info("SIP reconcile report", extra={"report": result})
    return result
