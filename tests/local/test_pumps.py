"""Queue pumps honour Lambda's SQS contract against moto: partial batch failures,
whole-batch failure on exceptions, visibility timeout and redrive to the DLQ."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources, QueueHandle, _create_queue
from atende_local.pumps import QueuePump, failed_ids
from atende_shared.aws import client
from atende_shared.resources import Queue
from functions.wiring_model import FunctionSpec, QueueSpec, QueueTrigger

CONSUMER = FunctionSpec(
    name="billing-calls",
    domain="billing",
    handler="functions.billing.handlers.calls.handler",
    description="a consumer defined by the test",
    queues=(QueueTrigger(queue=Queue.CALLS, batch_size=10),),
)


class RejectingConsumer:
    """Fails every record whose body says so, records what it saw (a test consumer)."""

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        self.events.append(event)
        failures = []
        for record in event["Records"]:
            self.seen.append(record)
            if json.loads(record["body"]).get("reject"):
                failures.append({"itemIdentifier": record["messageId"]})
        return {"batchItemFailures": failures}


@pytest.fixture
def fast_queue(aws: LocalResources) -> QueueHandle:
    """Given a queue whose visibility timeout is 1 s and that dead-letters after 2 receives."""
    spec = QueueSpec(name=Queue.CALLS, visibility_timeout_seconds=1, max_receive_count=2)
    return _create_queue(spec, "pumptest")


def _send(queue: QueueHandle, body: dict[str, Any], correlation_id: str = "corr-1") -> str:
    answer = client("sqs").send_message(
        QueueUrl=queue.url,
        MessageBody=json.dumps(body),
        MessageAttributes={"correlation_id": {"DataType": "String", "StringValue": correlation_id}},
    )
    return str(answer["MessageId"])


def _pump(queue: QueueHandle, consumer: Any, batch_size: int = 10, window: int = 0) -> QueuePump:
    return QueuePump(
        function=CONSUMER,
        trigger=QueueTrigger(
            queue=Queue.CALLS, batch_size=batch_size, max_batching_window_seconds=window
        ),
        queue=queue,
        invoke=lambda: consumer,
        wait_seconds=0,
    )


def _depth(url: str) -> tuple[int, int]:
    attributes = client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return (
        int(attributes["ApproximateNumberOfMessages"]),
        int(attributes["ApproximateNumberOfMessagesNotVisible"]),
    )


def test_the_consumer_gets_a_real_sqs_event(fast_queue: QueueHandle) -> None:
    # Given one message with a correlation id attribute
    message_id = _send(fast_queue, {"n": 1}, correlation_id="corr-42")
    consumer = RejectingConsumer()
    # When the pump polls
    _pump(fast_queue, consumer).poll_once()
    # Then the record has the fields Lambda's SQS event carries
    record = consumer.events[0]["Records"][0]
    assert record["messageId"] == message_id
    assert record["receiptHandle"]
    assert json.loads(record["body"]) == {"n": 1}
    assert record["attributes"]["ApproximateReceiveCount"] == "1"
    assert "SentTimestamp" in record["attributes"]
    assert record["messageAttributes"]["correlation_id"] == {
        "stringValue": "corr-42",
        "stringListValues": [],
        "binaryListValues": [],
        "dataType": "String",
    }
    assert record["md5OfBody"]
    assert record["eventSource"] == "aws:sqs"
    assert record["eventSourceARN"] == fast_queue.arn
    assert record["awsRegion"] == "us-east-1"


def test_partial_batch_failure_deletes_only_the_successes(fast_queue: QueueHandle) -> None:
    # Given three messages, one of which the consumer rejects
    for body in ({"n": 1}, {"n": 2, "reject": True}, {"n": 3}):
        _send(fast_queue, body)
    consumer = RejectingConsumer()
    pump = _pump(fast_queue, consumer)
    # When one batch is processed
    outcome = pump.poll_once()
    # Then two are deleted and the rejected one is still in flight on the queue
    assert (outcome.received, outcome.deleted, outcome.failed) == (3, 2, 1)
    assert _depth(fast_queue.url) == (0, 1)


def test_a_failing_message_lands_in_the_dlq_while_its_batch_mates_succeed(
    fast_queue: QueueHandle,
) -> None:
    # Given a batch with one poison message (the queue dead-letters after 2 receives)
    for body in ({"n": 1}, {"n": 2, "reject": True}, {"n": 3}):
        _send(fast_queue, body)
    consumer = RejectingConsumer()
    pump = _pump(fast_queue, consumer)
    # When the pump keeps polling past the visibility timeouts
    for _ in range(6):
        pump.poll_once()
        if _depth(fast_queue.dlq_url)[0]:
            break
        time.sleep(1.05)  # let the rejected message's visibility timeout expire
    # Then the good messages were processed once, the poison one exactly twice...
    bodies = [json.loads(r["body"]) for r in consumer.seen]
    assert bodies.count({"n": 1}) == 1
    assert bodies.count({"n": 3}) == 1
    assert bodies.count({"n": 2, "reject": True}) == 2
    # ...and it now sits in the DLQ, while the source queue is empty
    assert _depth(fast_queue.dlq_url) == (1, 0)
    assert _depth(fast_queue.url) == (0, 0)
    dead = client("sqs").receive_message(QueueUrl=fast_queue.dlq_url)["Messages"][0]
    assert json.loads(dead["Body"]) == {"n": 2, "reject": True}


def test_a_consumer_that_raises_returns_the_whole_batch(fast_queue: QueueHandle) -> None:
    for n in range(3):
        _send(fast_queue, {"n": n})

    def crash(event: Any, context: Any) -> Any:
        raise RuntimeError("database down")

    outcome = _pump(fast_queue, crash).poll_once()
    assert outcome.deleted == 0
    assert outcome.failed == 3
    assert "database down" in (outcome.error or "")
    assert _depth(fast_queue.url) == (0, 3)


def test_an_unknown_item_identifier_fails_the_whole_batch(fast_queue: QueueHandle) -> None:
    _send(fast_queue, {"n": 1})
    _send(fast_queue, {"n": 2})

    def liar(event: Any, context: Any) -> Any:
        return {"batchItemFailures": [{"itemIdentifier": "not-in-this-batch"}]}

    outcome = _pump(fast_queue, liar).poll_once()
    assert outcome.deleted == 0
    assert _depth(fast_queue.url) == (0, 2)


def test_batch_size_caps_each_invocation(fast_queue: QueueHandle) -> None:
    for n in range(5):
        _send(fast_queue, {"n": n})
    consumer = RejectingConsumer()
    pump = _pump(fast_queue, consumer, batch_size=2)
    pump.poll_once()
    assert len(consumer.events[0]["Records"]) == 2


def test_a_batching_window_gathers_more_than_one_receive(fast_queue: QueueHandle) -> None:
    # Given 15 messages and a batch size of 15 with a 1 s window (SQS returns <= 10 per call)
    for n in range(15):
        _send(fast_queue, {"n": n})
    consumer = RejectingConsumer()
    # When one batch is gathered
    _pump(fast_queue, consumer, batch_size=15, window=1).poll_once()
    # Then the invocation carries all of them
    assert len(consumer.events[0]["Records"]) == 15


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (None, set()),
        ({}, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": ""}]}, None),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, None),
        ({"batchItemFailures": "a"}, None),
    ],
)
def test_failed_ids_follow_lambdas_rules(answer: Any, expected: set[str] | None) -> None:
    assert failed_ids(answer, {"a", "b"}) == expected
