"""Sending to SQS and publishing to EventBridge, behind small protocols.

Both attach the correlation id so it survives the hop: SQS as the ``correlation_id``
message attribute, EventBridge inside the event detail (every ``DomainEvent`` has it).
A failed send raises :class:`DependencyUnavailable`; callers must not swallow it (a
webhook answers 5xx so the sender retries; a consumer fails the record so SQS redelivers).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import client
from atende_shared.errors import DependencyUnavailable
from atende_shared.observability import CORRELATION_ATTRIBUTE
from atende_shared.ports.messaging import EventPublisher, QueueSender

if TYPE_CHECKING:  # ingress only sends to SQS: it need not import the event catalogue
    from atende_shared.events import DomainEvent

__all__ = ["EventBridgePublisher", "EventPublisher", "QueueSender", "SqsQueueSender"]


class SqsQueueSender:
    """:class:`QueueSender` on SQS. FIFO queues need ``group_id`` (we use the tenant)."""

    def send(
        self,
        queue_url: str,
        body: str,
        *,
        correlation_id: str,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        request: dict[str, Any] = {
            "QueueUrl": queue_url,
            "MessageBody": body,
            "MessageAttributes": {
                CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": correlation_id}
            },
        }
        if queue_url.endswith(".fifo"):
            if not group_id:
                raise ValueError("a FIFO queue needs a message group id")
            request["MessageGroupId"] = group_id
            if deduplication_id:
                request["MessageDeduplicationId"] = deduplication_id[:128]
        try:
            answer = client("sqs").send_message(**request)
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailable(f"enqueue to {queue_url} failed: {exc}") from exc
        return str(answer["MessageId"])


class EventBridgePublisher:
    """:class:`EventPublisher` on a custom bus. Raises if any entry is not accepted."""

    def __init__(self, bus_name: str) -> None:
        self._bus_name = bus_name

    def publish(self, events: Sequence[DomainEvent]) -> None:
        from atende_shared.events import to_put_events_entry

        entries = [to_put_events_entry(e, bus_name=self._bus_name) for e in events]
        for start in range(0, len(entries), 10):  # PutEvents takes at most 10 entries
            chunk = entries[start : start + 10]
            try:
                answer = client("events").put_events(Entries=chunk)
            except (ClientError, BotoCoreError) as exc:
                raise DependencyUnavailable(f"publish to {self._bus_name} failed: {exc}") from exc
            if answer.get("FailedEntryCount", 0):
                failed = [e for e in answer.get("Entries", []) if e.get("ErrorCode")]
                raise DependencyUnavailable(f"EventBridge refused {len(failed)} entries: {failed}")
