"""Queue pumps: Lambda's SQS event source mapping, in-process.

One pump per declared ``QueueTrigger``. It long-polls the queue, gathers up to
``batch_size`` records (waiting up to ``max_batching_window_seconds`` for more), invokes
the consumer with a real SQS event and then, like Lambda with
``ReportBatchItemFailures``: deletes the records not listed in ``batchItemFailures``,
deletes nothing when the handler raises or answers an invalid failure list, and leaves
failures to reappear after the queue's visibility timeout. The redrive to the DLQ after
``maxReceiveCount`` receives is SQS's own (moto implements it on receive).
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Logger

from atende_local.bootstrap import QueueHandle
from atende_local.runtime import LOCAL_REGION, context_for, format_exception
from atende_shared.aws import client
from functions.wiring_model import FunctionSpec, QueueTrigger

Invoke = Callable[[dict[str, Any], Any], Any]
#: SQS returns at most 10 messages per receive.
_SQS_MAX_BATCH = 10

log = Logger(service="atende-local", use_rfc3339=True)


@dataclass
class BatchOutcome:
    """What one invocation did to one batch."""

    received: int = 0
    deleted: int = 0
    failed: int = 0
    error: str | None = None


@dataclass
class PumpStats:
    batches: int = 0
    received: int = 0
    deleted: int = 0
    failed: int = 0
    errors: int = 0
    last_error: str | None = None
    last_batch_at: float | None = None


def _message_attributes(raw: dict[str, Any]) -> dict[str, Any]:
    """SQS API attributes → the Lambda event's camelCase shape (binary as base64)."""
    converted: dict[str, Any] = {}
    for name, value in raw.items():
        entry: dict[str, Any] = {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": value.get("DataType", "String"),
        }
        if "StringValue" in value:
            entry["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            binary = value["BinaryValue"]
            entry["binaryValue"] = base64.b64encode(binary).decode("ascii")
        converted[name] = entry
    return converted


def sqs_record(message: dict[str, Any], *, queue_arn: str, region: str) -> dict[str, Any]:
    """One record of the SQS event Lambda delivers, from a ReceiveMessage message."""
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message.get("Body", ""),
        "attributes": dict(message.get("Attributes") or {}),
        "messageAttributes": _message_attributes(message.get("MessageAttributes") or {}),
        "md5OfBody": message.get("MD5OfBody"),
        "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }


def failed_ids(answer: Any, batch_ids: set[str]) -> set[str] | None:
    """The message ids the handler reported as failed; None if the answer is invalid
    (Lambda then treats the whole batch as failed)."""
    if answer is None:
        return set()
    if not isinstance(answer, dict):
        return set()  # Lambda ignores a non-dict answer: the batch succeeded
    failures = answer.get("batchItemFailures")
    if failures is None:
        return set()
    if not isinstance(failures, list):
        return None
    ids: set[str] = set()
    for item in failures:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if not identifier or identifier not in batch_ids:
            return None  # empty or unknown identifier: Lambda fails the whole batch
        ids.add(identifier)
    return ids


class QueuePump:
    """Polls one queue and feeds its consumer, until stopped."""

    def __init__(
        self,
        *,
        function: FunctionSpec,
        trigger: QueueTrigger,
        queue: QueueHandle,
        invoke: Callable[[], Invoke],
        wait_seconds: int = 1,
        region: str = LOCAL_REGION,
        prefix: str = "atende-local",
    ) -> None:
        self.function = function
        self.trigger = trigger
        self.queue = queue
        self._invoke = invoke
        self._wait_seconds = wait_seconds
        self._region = region
        self._prefix = prefix
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.stats = PumpStats()

    @property
    def name(self) -> str:
        return f"{self.queue.spec.name.value}->{self.function.name}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # -- receiving -------------------------------------------------------------------

    def _receive(self, count: int, wait: int) -> list[dict[str, Any]]:
        answer = client("sqs").receive_message(
            QueueUrl=self.queue.url,
            MaxNumberOfMessages=max(1, min(_SQS_MAX_BATCH, count)),
            WaitTimeSeconds=wait,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return list(answer.get("Messages") or [])

    def gather(self) -> list[dict[str, Any]]:
        """Up to ``batch_size`` messages: the first long-poll, then more until the batch
        is full or the batching window closes (no window: one receive)."""
        batch = self._receive(self.trigger.batch_size, self._wait_seconds)
        window = self.trigger.max_batching_window_seconds
        if not batch or window == 0:
            return batch  # no window: Lambda invokes with what one poll returned
        deadline = time.monotonic() + window
        while len(batch) < self.trigger.batch_size and not self._stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            more = self._receive(self.trigger.batch_size - len(batch), 1 if remaining >= 1 else 0)
            if not more:
                self._stop.wait(min(remaining, 0.1))  # short poll came back empty
            batch.extend(more)
        return batch

    # -- one batch -------------------------------------------------------------------

    def process(self, messages: list[dict[str, Any]]) -> BatchOutcome:
        """Invoke the consumer with ``messages`` and settle them as Lambda would."""
        outcome = BatchOutcome(received=len(messages))
        if not messages:
            return outcome
        event = {
            "Records": [
                sqs_record(m, queue_arn=self.queue.arn, region=self._region) for m in messages
            ]
        }
        batch_ids = {m["MessageId"] for m in messages}
        context = context_for(self.function, self._prefix)
        try:
            handler = self._invoke()
            answer = handler(event, context)
        except Exception as exc:  # the whole batch returns to the queue
            outcome.failed = len(messages)
            outcome.error = f"{type(exc).__name__}: {exc}"
            log.error(
                "consumer failed: whole batch returns to the queue",
                extra={
                    "function": self.function.name,
                    "queue": self.queue.spec.name.value,
                    "records": len(messages),
                    "error": format_exception(exc),
                },
            )
            self._account(outcome)
            return outcome
        failed = failed_ids(answer, batch_ids)
        if failed is None:
            outcome.failed = len(messages)
            outcome.error = "invalid batchItemFailures answer: whole batch failed"
            log.error(outcome.error, extra={"function": self.function.name, "answer": answer})
            self._account(outcome)
            return outcome
        done = [m for m in messages if m["MessageId"] not in failed]
        outcome.failed = len(failed)
        outcome.deleted = self._delete(done)
        log.info(
            "batch settled",
            extra={
                "function": self.function.name,
                "queue": self.queue.spec.name.value,
                "records": len(messages),
                "deleted": outcome.deleted,
                "failed": outcome.failed,
                "aws_request_id": context.aws_request_id,
            },
        )
        self._account(outcome)
        return outcome

    def _delete(self, messages: list[dict[str, Any]]) -> int:
        deleted = 0
        for start in range(0, len(messages), _SQS_MAX_BATCH):
            chunk = messages[start : start + _SQS_MAX_BATCH]
            answer = client("sqs").delete_message_batch(
                QueueUrl=self.queue.url,
                Entries=[
                    {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)
                ],
            )
            deleted += len(answer.get("Successful") or [])
            for failure in answer.get("Failed") or []:
                log.warning("delete failed; the message will be redelivered", extra=failure)
        return deleted

    def _account(self, outcome: BatchOutcome) -> None:
        self.stats.batches += 1
        self.stats.received += outcome.received
        self.stats.deleted += outcome.deleted
        self.stats.failed += outcome.failed
        self.stats.last_batch_at = time.time()
        if outcome.error:
            self.stats.errors += 1
            self.stats.last_error = outcome.error

    def poll_once(self) -> BatchOutcome:
        """Gather one batch and process it (tests drive the pump with this)."""
        return self.process(self.gather())

    # -- lifecycle -------------------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.poll_once()
            except Exception as exc:  # moto restarting, a network hiccup: keep pumping
                self.stats.errors += 1
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                if self._stop.is_set():
                    return
                log.warning("pump error", extra={"pump": self.name, "error": str(exc)})
                self._stop.wait(1.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"pump-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


@dataclass
class PumpSet:
    pumps: list[QueuePump] = field(default_factory=list)

    def start(self) -> None:
        for pump in self.pumps:
            pump.start()

    def stop(self, timeout: float = 25.0) -> None:
        for pump in self.pumps:
            pump.stop()
        deadline = time.monotonic() + timeout
        for pump in self.pumps:
            pump.join(max(0.0, deadline - time.monotonic()))
