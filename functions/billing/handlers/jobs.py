"""Scheduled jobs: ``{"job": "statements"}`` monthly, ``{"job": "reconcile"}`` daily."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.errors import ValidationFailed
from atende_shared.observability import MetricUnit, instrumented, metrics
from atende_shared.settings import load_settings
from functions.billing.dal.artifacts import statement_store
from functions.billing.handlers.deps import default_deps
from functions.billing.logic.jobs import reconcile, write_statements
from functions.billing.settings import BillingJobsSettings


@instrumented(BillingJobsSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    job = event.get("job")
    if job == "reconcile":
        report = reconcile(default_deps())
        # Always emitted (0 included) so the alarm on it never sits in INSUFFICIENT_DATA.
        metrics.add_metric(
            name="LedgerMismatch", unit=MetricUnit.Count, value=len(report.mismatches)
        )
        return {
            "job": job,
            "tenants": report.tenants,
            "mismatches": [m.tenant_id for m in report.mismatches],
        }
    if job == "statements":
        bucket = load_settings(BillingJobsSettings).artifacts_bucket
        keys = write_statements(default_deps(), statement_store(bucket), period=event.get("period"))
        metrics.add_metric(name="StatementsWritten", unit=MetricUnit.Count, value=len(keys) // 2)
        return {"job": job, "written": keys}
    raise ValidationFailed(f"unknown job {job!r}")
