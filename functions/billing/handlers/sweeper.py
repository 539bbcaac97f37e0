"""Scheduled sweeper: close call sessions whose end never arrived."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.observability import MetricUnit, instrumented, metrics
from functions.billing.handlers.deps import default_deps
from functions.billing.logic.calls import sweep
from functions.billing.settings import BillingSettings


@instrumented(BillingSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    report = sweep(default_deps())
    metrics.add_metric(name="SessionsSwept", unit=MetricUnit.Count, value=report.closed)
    metrics.add_metric(name="SweepFailures", unit=MetricUnit.Count, value=report.failed)
    # The dashboard's "calls in progress" (Maximum per period), sampled on every sweep.
    metrics.add_metric(name="CallsInProgress", unit=MetricUnit.Count, value=report.open_calls)
    return {
        "examined": report.examined,
        "closed": report.closed,
        "failed": report.failed,
        "outbox_flushed": report.outbox_flushed,
        "open_calls": report.open_calls,
    }
