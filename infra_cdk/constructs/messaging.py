"""Messaging: the work queues declared in the wiring (each with a DLQ and alarms), the
custom EventBridge bus with its archive, and the subscription rules."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from atende_shared.resources import EVENT_SOURCE, Queue
from functions.wiring_model import QueueSpec
from infra_cdk import constants
from infra_cdk.constructs.alarms import ABOVE, alarm


class Messaging(Construct):
    """Queues + DLQs (SSE, TLS only), the bus, its archive, and the alarms on stuck work."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        queues: tuple[QueueSpec, ...],
    ) -> None:
        super().__init__(scope, construct_id)
        self.queues: dict[Queue, sqs.Queue] = {}
        self.dlqs: dict[Queue, sqs.Queue] = {}
        self.alarms: list[cloudwatch.Alarm] = []
        self.bus = events.EventBus(
            self, "Bus", event_bus_name=constants.physical_name(stage, "bus")
        )
        # Replays re-deliver what subscribers missed (e.g. after a consumer bug).
        self.archive = self.bus.archive(
            "Archive",
            archive_name=constants.physical_name(stage, "events"),
            description="Every Atende domain event, for replay.",
            event_pattern=events.EventPattern(source=[EVENT_SOURCE]),
            retention=Duration.days(constants.EVENT_ARCHIVE_RETENTION_DAYS),
        )
        self.rules: dict[Queue, events.Rule] = {}
        for spec in queues:
            self._queue(spec, stage)
        # Target-less rules: EventBridge still counts their matches (AWS/Events
        # MatchedEvents), which charts business events with no code emitting a metric.
        self.counted_events: dict[str, events.Rule] = {
            detail_type: events.Rule(
                self,
                f"Count{detail_type}",
                rule_name=constants.physical_name(stage, f"count-{detail_type.lower()}"),
                description=f"Counts {detail_type} events for the dashboard.",
                event_bus=self.bus,
                event_pattern=events.EventPattern(source=[EVENT_SOURCE], detail_type=[detail_type]),
            )
            for detail_type in constants.COUNTED_EVENTS
        }

    def schedule_failures_queue(self, stage: str) -> sqs.Queue:
        """The queue scheduled functions' failed invocations land in, alarmed like a DLQ."""
        queue = sqs.Queue(
            self,
            "ScheduleFailures",
            queue_name=constants.physical_name(stage, "schedule-failures"),
            retention_period=Duration.days(constants.SCHEDULE_FAILURES_RETENTION_DAYS),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        self.alarms.append(
            alarm(
                self,
                "ScheduleFailuresNotEmpty",
                stage=stage,
                name="schedule-failures-not-empty",
                description="A scheduled job failed every retry: read the message, fix, rerun.",
                metric=queue.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=0,
                comparison=ABOVE,
            )
        )
        return queue

    def _queue(self, spec: QueueSpec, stage: str) -> None:
        name = spec.name.value
        suffix = ".fifo" if spec.fifo else ""
        fifo = True if spec.fifo else None
        dlq = sqs.Queue(
            self,
            f"{name.capitalize()}Dlq",
            queue_name=constants.physical_name(stage, f"{name}-dlq{suffix}"),
            fifo=fifo,
            retention_period=Duration.days(spec.dlq_retention_days),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        queue = sqs.Queue(
            self,
            f"{name.capitalize()}Queue",
            queue_name=constants.physical_name(stage, spec.physical_suffix),
            fifo=fifo,
            # Exactly-once is the consumers' job (idempotent on business ids); dedupe by
            # content would silently drop two genuinely identical provider events.
            content_based_deduplication=None,
            visibility_timeout=Duration.seconds(spec.visibility_timeout_seconds),
            retention_period=Duration.days(spec.retention_days),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dlq, max_receive_count=spec.max_receive_count
            ),
        )
        self.queues[spec.name] = queue
        self.dlqs[spec.name] = dlq
        self.alarms.append(
            alarm(
                self,
                f"{name.capitalize()}DlqNotEmpty",
                stage=stage,
                name=f"{name}-dlq-not-empty",
                description=f"Messages in the {name} DLQ: inspect, fix, redrive.",
                metric=dlq.metric_approximate_number_of_messages_visible(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=0,
                comparison=ABOVE,
            )
        )
        self.alarms.append(
            alarm(
                self,
                f"{name.capitalize()}OldestMessage",
                stage=stage,
                name=f"{name}-oldest-message",
                description=f"The {name} queue is not being drained.",
                metric=queue.metric_approximate_age_of_oldest_message(
                    period=Duration.minutes(1), statistic="Maximum"
                ),
                threshold=constants.QUEUE_AGE_ALARM_SECONDS,
                comparison=ABOVE,
                evaluation_periods=5,
            )
        )
        if spec.subscribes_to:
            self.rules[spec.name] = events.Rule(
                self,
                f"{name.capitalize()}Subscriptions",
                rule_name=constants.physical_name(stage, f"{name}-subscriptions"),
                description=f"Domain events delivered into the {name} queue.",
                event_bus=self.bus,
                event_pattern=events.EventPattern(
                    source=[EVENT_SOURCE], detail_type=list(spec.subscribes_to)
                ),
                targets=[
                    targets.SqsQueue(
                        queue,
                        message_group_id=constants.EVENTS_MESSAGE_GROUP if spec.fifo else None,
                        # EventBridge can only dead-letter into a standard queue.
                        dead_letter_queue=None if spec.fifo else dlq,
                    )
                ],
            )
