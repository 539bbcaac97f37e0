"""What logic needs to send to a queue or publish events (no boto3 here: the SQS and
EventBridge implementations are in ``atende_shared.messaging``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from atende_shared.events import DomainEvent


class QueueSender(Protocol):
    def send(
        self,
        queue_url: str,
        body: str,
        *,
        correlation_id: str,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str: ...


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None: ...
