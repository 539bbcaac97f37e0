"""The poison-message policy every SQS consumer shares (``atende_shared.consumers``):
permanent failures go to the queue's DLQ alone and at once; transient ones are redelivered
and, on FIFO queues, hold only their own message group; each is logged at ERROR with the
correlation id and counted."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_local.bootstrap import LocalResources
from atende_shared.aws import client
from atende_shared.consumers import PermanentFailure, SqsDeadLetters, consume
from atende_shared.errors import DependencyUnavailable, ValidationFailed
from atende_shared.models.envelope import InboundEvent, Provider


class _Context:
    function_name = "consumer-test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:consumer-test"
    aws_request_id = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """Every log line of the shared logger, formatted as it is emitted (JSON)."""
    from atende_shared.observability import logger

    lines: list[dict[str, Any]] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(json.loads(self.format(record)))

    keep = Keep()
    keep.setFormatter(logger.registered_formatter)
    logger.addHandler(keep)
    yield lines
    logger.removeHandler(keep)


def _arn(url: str) -> str:
    return client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]


def _event(queue_url: str, bodies: list[tuple[str, str]], *, fifo: bool) -> dict[str, Any]:
    arn = _arn(queue_url)
    records = []
    for n, (group, body) in enumerate(bodies):
        attributes = {"ApproximateReceiveCount": "1"}
        if fifo:
            attributes |= {"MessageGroupId": group, "SequenceNumber": str(n)}
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": attributes,
                "messageAttributes": {
                    "correlation_id": {"stringValue": f"corr-{n}", "dataType": "String"}
                },
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def _dlq(aws: LocalResources, queue: str) -> list[dict[str, Any]]:
    got = client("sqs").receive_message(
        QueueUrl=aws.queues[queue].dlq_url,
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
        AttributeNames=["All"],
    )
    return got.get("Messages", [])


def handle(record: SQSRecord) -> str:
    body = json.loads(record.body)
    match body["kind"]:
        case "poison":
            raise PermanentFailure("never_applicable", "this message can never be applied")
        case "invalid":
            raise ValidationFailed("amount must be a number")
        case "flaky":
            raise DependencyUnavailable("throttled")
        case _:
            return "ok"


def test_fifo_poison_goes_to_the_dlq_at_once_and_its_group_flows(
    aws: LocalResources, capsys: pytest.CaptureFixture[str], log_lines: list[dict[str, Any]]
) -> None:
    # Given a FIFO batch: tenant a's poison message, then a's good one; tenant b's flaky
    # (transient) one, then b's good one
    queue = aws.queues["payments"]
    event = _event(
        queue.url,
        [
            ("a", '{"kind": "poison"}'),
            ("a", '{"kind": "good"}'),
            ("b", '{"kind": "flaky"}'),
            ("b", '{"kind": "good"}'),
        ],
        fifo=True,
    )
    # When the consumer runs it
    answer = consume(event, _Context(), consumer="test", handle=handle, fifo=True)
    # Then the poison is on the DLQ with its reason, a's next message was applied, and only
    # b's group is left for redelivery (in order)
    records = event["Records"]
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records[2:]]
    }
    [dead] = _dlq(aws, "payments")
    assert dead["Body"] == '{"kind": "poison"}'
    assert dead["MessageAttributes"]["atende_failure_reason"]["StringValue"] == ("never_applicable")
    assert dead["Attributes"]["MessageGroupId"] == "a"
    # And both failures are logged at ERROR with their correlation id, reason and kind
    errors = [line for line in log_lines if line.get("level") == "ERROR"]
    assert {(e["correlation_id"], e["kind"]) for e in errors} == {
        ("corr-0", "permanent"),
        ("corr-2", "transient"),
    }
    assert next(e for e in errors if e["kind"] == "permanent")["reason"] == "never_applicable"
    printed = [json.loads(x) for x in capsys.readouterr().out.splitlines() if x[:1] == "{"]
    metrics = [line for line in printed if "ConsumerFailure" in line]
    assert sorted(m["kind"] for m in metrics) == ["permanent", "transient"]


def test_standard_queue_validation_failure_is_poison(aws: LocalResources) -> None:
    queue = aws.queues["calls"]
    event = _event(queue.url, [("-", '{"kind": "invalid"}'), ("-", '{"kind": "good"}')], fifo=False)
    assert consume(event, _Context(), consumer="test", handle=handle, fifo=False) == {
        "batchItemFailures": []
    }
    [dead] = _dlq(aws, "calls")
    assert dead["MessageAttributes"]["atende_failure_reason"]["StringValue"] == (
        "validation_failed"
    )


def test_a_dlq_that_cannot_be_written_falls_back_to_redelivery(aws: LocalResources) -> None:
    # Given the DLQ cannot be reached (no permission, throttled...)
    class Broken(SqsDeadLetters):
        def send(self, record: SQSRecord, reason: str) -> None:
            raise RuntimeError("AccessDenied")

    event = _event(aws.queues["calls"].url, [("-", '{"kind": "poison"}')], fifo=False)
    # Then the poison message is not acknowledged: SQS redelivers it (never lost)
    answer = consume(
        event, _Context(), consumer="test", handle=handle, fifo=False, dead_letters=Broken()
    )
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_the_catalog_consumer_logs_why_a_message_cannot_be_applied(
    aws: LocalResources, log_lines: list[dict[str, Any]]
) -> None:
    # Given a catalog message that names no tenant (it can never be applied)
    from functions.sync.handlers.catalog import handler

    body = InboundEvent(
        tenant_id=None,
        provider=Provider.BLING,
        provider_event_id="e-1",
        type="stock.updated",
        occurred_at="2026-11-22T10:00:00Z",
        correlation_id="corr-0",
        payload={"data": {}},
    ).model_dump_json()
    event = _event(aws.queues["catalog"].url, [("acme", body)], fifo=True)
    # When the catalog consumer handles it
    assert handler(event, _Context()) == {"batchItemFailures": []}
    # Then it is dead-lettered with an ERROR line naming the reason and the correlation id
    [error] = [line for line in log_lines if line.get("level") == "ERROR"]
    assert (error["correlation_id"], error["consumer"], error["reason"]) == (
        "corr-0",
        "sync-catalog",
        "malformed_request",
    )
    assert "without a tenant" in error["error"]
    assert len(_dlq(aws, "catalog")) == 1


def test_an_eventbridge_delivery_binds_the_events_correlation_id(aws: LocalResources) -> None:
    # Given a domain event an EventBridge rule delivered (no SQS message attributes)
    from atende_shared.consumers import bind_record

    body = json.dumps({"detail-type": "OrderPlaced", "detail": {"correlation_id": "corr-42"}})
    [raw] = _event(aws.queues["calls"].url, [("-", body)], fifo=False)["Records"]
    raw["messageAttributes"] = {}
    # When the consumer binds the record
    # Then the logs follow the event's own correlation id, not the SQS message id
    assert bind_record(SQSRecord(raw)) == "corr-42"
    # And a message without one falls back to its message id
    [plain] = _event(aws.queues["calls"].url, [("-", "not json")], fifo=False)["Records"]
    plain["messageAttributes"] = {}
    assert bind_record(SQSRecord(plain)) == plain["messageId"]
