"""SQS consumers: one policy for a message that cannot be applied, decided once.

Every queue consumer runs its records through :func:`consume`. A record handler that
raises is classified:

- **permanent** (:class:`PermanentFailure`, and the domain's ``ValidationFailed`` /
  ``MalformedRequest``, and pydantic ``ValidationError``): the message can never succeed,
  however often it is retried. It is sent to the queue's DLQ *at once* by the consumer
  itself (the DLQ is the one named in the source queue's redrive policy) with the reason
  as a message attribute, and the record is reported as handled. So a poison message
  costs one receive, not ``maxReceiveCount`` times the visibility timeout, and on a FIFO queue
  it never holds its message group (or takes the good messages behind it to the DLQ).
- **transient** (anything else: a throttled table, a provider timeout): the record fails
  and SQS redelivers it; after ``maxReceiveCount`` receives the redrive policy moves it to
  the same DLQ. On FIFO queues the rest of that record's message group in the batch is
  failed unprocessed (``skip_group_on_error``), so order within a group is kept while the
  other groups (tenants) carry on.

Either way nothing is lost silently: each failure is logged at ERROR with the
correlation id, the consumer, the message id and the reason, and counted as the
``ConsumerFailure`` metric (dimensions ``consumer`` and ``kind``). If the DLQ cannot be
written, the permanent failure falls back to the transient path (redrive), never to a
silent success.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from aws_lambda_powertools.metrics import MetricUnit, single_metric
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from pydantic import ValidationError

from atende_shared.errors import AtendeError, MalformedRequest, PermanentFailure, ValidationFailed
from atende_shared.observability import (
    METRICS_NAMESPACE,
    bind_correlation_id,
    correlation_id_from_sqs_record,
    logger,
)

__all__ = [
    "FAILURE_REASON_ATTRIBUTE",
    "DeadLetters",
    "PermanentFailure",
    "SqsDeadLetters",
    "bind_record",
    "consume",
    "permanent_reason",
]

#: SQS message attribute carrying why a message was dead-lettered by its consumer.
FAILURE_REASON_ATTRIBUTE = "atende_failure_reason"
FAILURE_METRIC = "ConsumerFailure"
DEAD_LETTERED_METRIC = "ConsumerDeadLettered"


def permanent_reason(exc: BaseException) -> str | None:
    """The reason ``exc`` makes its message permanently unprocessable, or None when a retry
    may succeed (the default for anything unknown: retrying a bug is cheap, losing a
    message is not)."""
    if isinstance(exc, PermanentFailure):
        return exc.reason
    if isinstance(exc, ValidationFailed):
        return exc.code
    if isinstance(exc, MalformedRequest):
        return exc.code
    if isinstance(exc, ValidationError):
        return "invalid_message"
    if isinstance(exc, json.JSONDecodeError):
        return "not_json"
    return None


class DeadLetters(Protocol):
    """Where a consumer puts a permanently failed record itself."""

    def send(self, record: SQSRecord, reason: str) -> None: ...


class SqsDeadLetters:
    """The DLQ of the record's source queue, read from the queue's ``RedrivePolicy`` (cached
    per queue): no extra configuration, and always the DLQ the redrive would have used, so
    ``atende dlq replay`` and the DLQ alarms see both kinds alike."""

    def __init__(self, sqs_client: Callable[[], Any] | None = None) -> None:
        self._client_factory = sqs_client
        self._dlq_urls: dict[str, str] = {}

    def _client(self) -> Any:
        if self._client_factory is not None:
            return self._client_factory()
        from atende_shared.aws import client

        return client("sqs")

    def _dlq_url(self, source_arn: str) -> str:
        cached = self._dlq_urls.get(source_arn)
        if cached is not None:
            return cached
        sqs = self._client()
        _, _, _, _, account, name = source_arn.split(":", 5)
        url = sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["RedrivePolicy"])
        policy = json.loads(attributes["Attributes"]["RedrivePolicy"])
        dlq_account, dlq_name = policy["deadLetterTargetArn"].split(":")[4:6]
        dlq_url: str = sqs.get_queue_url(QueueName=dlq_name, QueueOwnerAWSAccountId=dlq_account)[
            "QueueUrl"
        ]
        self._dlq_urls[source_arn] = dlq_url
        return dlq_url

    def send(self, record: SQSRecord, reason: str) -> None:
        raw = record.raw_event
        url = self._dlq_url(str(raw["eventSourceARN"]))
        attributes: dict[str, Any] = {}
        for name, value in (raw.get("messageAttributes") or {}).items():
            if value.get("stringValue") is not None:
                attributes[name] = {
                    "DataType": value.get("dataType", "String"),
                    "StringValue": value["stringValue"],
                }
        attributes[FAILURE_REASON_ATTRIBUTE] = {"DataType": "String", "StringValue": reason[:256]}
        kwargs: dict[str, Any] = {
            "QueueUrl": url,
            "MessageBody": record.body,
            "MessageAttributes": dict(list(attributes.items())[:10]),
        }
        if url.endswith(".fifo"):
            system = raw.get("attributes") or {}
            kwargs["MessageGroupId"] = system.get("MessageGroupId") or "dead-letters"
            kwargs["MessageDeduplicationId"] = record.message_id
        self._client().send_message(**kwargs)


_DEFAULT_DEAD_LETTERS = SqsDeadLetters()


def _correlation_id_in_body(body: str | None) -> str | None:
    """The correlation id inside an EventBridge envelope (``detail.correlation_id``): rules
    deliver domain events to queues without SQS message attributes."""
    try:
        message = json.loads(body or "")
    except ValueError:
        return None
    if not isinstance(message, dict):
        return None
    detail = message.get("detail")
    value = (detail if isinstance(detail, dict) else message).get("correlation_id")
    return value if isinstance(value, str) and value else None


def bind_record(record: SQSRecord) -> str:
    """Bind and return the record's correlation id: the SQS attribute a producer attached,
    else the one in an EventBridge event's detail, else the message id."""
    correlation_id = (
        correlation_id_from_sqs_record(record.raw_event)
        or _correlation_id_in_body(record.body)
        or record.message_id
    )
    bind_correlation_id(correlation_id)
    return correlation_id


def _count(name: str, consumer: str, kind: str) -> None:
    with single_metric(
        name=name, unit=MetricUnit.Count, value=1, namespace=METRICS_NAMESPACE
    ) as metric:
        metric.add_dimension("consumer", consumer)
        metric.add_dimension("kind", kind)


def _failure_fields(record: SQSRecord, consumer: str, exc: BaseException) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "consumer": consumer,
        "message_id": record.message_id,
        "error_type": type(exc).__name__,
        "error": str(exc)[:1_000],
    }
    group = (record.raw_event.get("attributes") or {}).get("MessageGroupId")
    if group:
        fields["message_group"] = group
    if isinstance(exc, AtendeError) and exc.details:
        fields["details"] = exc.details
    return fields


def consume(
    event: Mapping[str, Any],
    context: Any,
    *,
    consumer: str,
    handle: Callable[[SQSRecord], Any],
    fifo: bool,
    dead_letters: DeadLetters | None = None,
) -> dict[str, Any]:
    """Run ``handle`` over the batch with the poison-message policy above and answer the
    ``batchItemFailures`` response. ``fifo``: keep each message group's order (skip the
    rest of a group after a transient failure); other groups are not held."""
    letters = dead_letters or _DEFAULT_DEAD_LETTERS

    def record_handler(record: SQSRecord) -> Any:
        bind_record(record)
        try:
            return handle(record)
        except Exception as exc:
            reason = permanent_reason(exc)
            fields = _failure_fields(record, consumer, exc)
            if reason is None:
                logger.error(
                    "message failed, left for redelivery",
                    extra={**fields, "kind": "transient"},
                    exc_info=True,
                )
                _count(FAILURE_METRIC, consumer, "transient")
                raise
            logger.error(
                "message cannot be applied: dead-lettered",
                extra={**fields, "kind": "permanent", "reason": reason},
            )
            _count(FAILURE_METRIC, consumer, "permanent")
            try:
                letters.send(record, reason)
            except Exception:
                logger.exception(
                    "could not dead-letter the message, left for redelivery",
                    extra={**fields, "reason": reason},
                )
                raise exc from None
            _count(DEAD_LETTERED_METRIC, consumer, "permanent")
            return "dead_lettered"

    processor: BatchProcessor
    if fifo:
        processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    else:
        processor = BatchProcessor(event_type=EventType.SQS)
    processor.raise_on_entire_batch_failure = False
    return dict(
        process_partial_response(
            event=dict(event), record_handler=record_handler, processor=processor, context=context
        )
    )
