"""Monitoring: one dashboard for the whole platform and the alarms that page someone."""

from __future__ import annotations

import re
from collections.abc import Iterable

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from atende_shared.resources import Queue
from infra_cdk import constants
from infra_cdk.constructs.alarms import alarm

_PERIOD = Duration.minutes(5)


def _search(metric_name: str, statistic: str, label: str) -> cloudwatch.MathExpression:
    """A custom Powertools metric whatever dimensions (service...) it was emitted with."""
    return cloudwatch.MathExpression(
        expression=(
            f"SEARCH('{{{constants.METRICS_NAMESPACE},service}} "
            f"MetricName=\"{metric_name}\"', '{statistic}', 60)"
        ),
        label=label,
        period=Duration.minutes(1),
    )


def _matched(rule: events.Rule, bus: events.IEventBus, label: str) -> cloudwatch.Metric:
    """Events that matched ``rule`` on ``bus`` (EventBridge publishes it for every rule)."""
    return cloudwatch.Metric(
        namespace="AWS/Events",
        metric_name="MatchedEvents",
        dimensions_map={"EventBusName": bus.event_bus_name, "RuleName": rule.rule_name},
        statistic="Sum",
        period=_PERIOD,
        label=label,
    )


def _kebab(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", name).lower()


class Monitoring(Construct):
    """``topic`` (alarm notifications), ``dashboard``, ``alarms``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        api: apigw.RestApi,
        functions: dict[str, lambda_.Function],
        queues: dict[Queue, sqs.Queue],
        dlqs: dict[Queue, sqs.Queue],
        alarms: Iterable[cloudwatch.Alarm],
        bus: events.IEventBus,
        counted_events: dict[str, events.Rule],
        alarm_email: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=constants.physical_name(stage, "alarms"),
            enforce_ssl=True,
        )
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = list(alarms)
        self.alarms.append(
            alarm(
                self,
                "Api5xx",
                stage=stage,
                name="api-5xx",
                description="Webhooks answered 5xx: senders are retrying.",
                metric=api.metric_server_error(period=_PERIOD, statistic="Sum"),
                threshold=5,
            )
        )
        for name, function in functions.items():
            for kind, metric in (
                ("errors", function.metric_errors(period=_PERIOD, statistic="Sum")),
                ("throttles", function.metric_throttles(period=_PERIOD, statistic="Sum")),
            ):
                self.alarms.append(
                    alarm(
                        self,
                        f"{name}-{kind}",
                        stage=stage,
                        name=f"{name}-{kind}",
                        metric=metric,
                        threshold=1,
                    )
                )
        for function_name, metric_name, why in constants.BUSINESS_ALARMS:
            if function_name not in functions:
                continue
            self.alarms.append(
                alarm(
                    self,
                    f"{metric_name}Alarm",
                    stage=stage,
                    name=_kebab(metric_name),
                    description=why,
                    metric=cloudwatch.Metric(
                        namespace=constants.METRICS_NAMESPACE,
                        metric_name=metric_name,
                        dimensions_map={"service": function_name},
                        statistic="Sum",
                        period=_PERIOD,
                    ),
                    threshold=1,
                )
            )
        action = cw_actions.SnsAction(self.topic)
        for each in self.alarms:
            each.add_alarm_action(action)

        self.dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=constants.physical_name(stage, "platform"),
            default_interval=Duration.hours(6),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Webhooks and admin API: requests, 4xx, 5xx",
                left=[
                    api.metric_count(period=Duration.minutes(1), label="requests"),
                    api.metric_client_error(period=Duration.minutes(1), label="4xx"),
                    api.metric_server_error(period=Duration.minutes(1), label="5xx"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Calls in progress / balance alerts",
                left=[_search(constants.METRIC_CALLS_IN_PROGRESS, "Maximum", "calls in progress")],
                right=[
                    _matched(counted_events[name], bus, name)
                    for name in ("BalanceLow", "TenantSuspended")
                    if name in counted_events
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Domain events per 5 minutes",
                left=[_matched(rule, bus, name) for name, rule in counted_events.items()],
                width=24,
            )
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Queues: age of oldest message (s)",
                left=[
                    queue.metric_approximate_age_of_oldest_message(
                        period=Duration.minutes(1), statistic="Maximum", label=name.value
                    )
                    for name, queue in queues.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="DLQ depth",
                left=[
                    dlq.metric_approximate_number_of_messages_visible(
                        period=Duration.minutes(1), statistic="Maximum", label=name.value
                    )
                    for name, dlq in dlqs.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=title,
                    left=[
                        getattr(fn, metric)(period=_PERIOD, statistic=statistic, label=name)
                        for name, fn in functions.items()
                    ],
                    width=8,
                )
                for title, metric, statistic in (
                    ("Lambda errors", "metric_errors", "Sum"),
                    ("Lambda throttles", "metric_throttles", "Sum"),
                    ("Lambda duration p99 (ms)", "metric_duration", "p99"),
                )
            )
        )
