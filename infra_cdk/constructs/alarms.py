"""One way to declare a platform alarm: named per stage, quiet when there is no data."""

from __future__ import annotations

from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct

from infra_cdk import constants

AT_LEAST = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
ABOVE = cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD


def alarm(
    scope: Construct,
    construct_id: str,
    *,
    stage: str,
    name: str,
    metric: cloudwatch.IMetric,
    threshold: float,
    description: str | None = None,
    evaluation_periods: int = 1,
    comparison: cloudwatch.ComparisonOperator = AT_LEAST,
) -> cloudwatch.Alarm:
    """An alarm called ``atende-<stage>-<name>``; missing data (no traffic) is not breaching."""
    return cloudwatch.Alarm(
        scope,
        construct_id,
        alarm_name=constants.physical_name(stage, name),
        alarm_description=description,
        metric=metric,
        threshold=threshold,
        evaluation_periods=evaluation_periods,
        comparison_operator=comparison,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
