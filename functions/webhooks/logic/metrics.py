"""Per-provider counters as CloudWatch EMF through Powertools.

``single_metric`` is used because refusals carry a ``reason`` dimension on top of
``provider``, and each count must keep its own dimension set.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from atende_shared.models.envelope import Provider
from atende_shared.observability import METRICS_NAMESPACE


class PowertoolsMetrics:
    """:class:`MetricsSink` emitting one EMF record per count."""

    def count(self, name: str, provider: Provider, reason: str | None = None) -> None:
        with single_metric(
            name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
        ) as metric:
            metric.add_dimension("provider", provider.value)
            if reason:
                metric.add_dimension("reason", reason)
