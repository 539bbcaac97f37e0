"""The notifications queue (delayed re-enqueue), the HTTP poster and DNS resolution."""

from __future__ import annotations

import socket

import httpx
from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import client
from atende_shared.errors import DependencyUnavailable
from atende_shared.observability import CORRELATION_ATTRIBUTE
from functions.orders.models.notifications import DeliveryJob

#: SQS's maximum per-message delay; longer backoffs are chained re-enqueues.
MAX_DELAY_SECONDS = 900


class SqsJobQueue:
    """:class:`~functions.orders.dal.protocol.JobQueue` on the notifications queue."""

    def __init__(self, queue_url: str) -> None:
        self._url = queue_url

    def enqueue(self, job: DeliveryJob, *, delay_seconds: int = 0) -> None:
        try:
            client("sqs").send_message(
                QueueUrl=self._url,
                MessageBody=job.model_dump_json(),
                DelaySeconds=max(0, min(delay_seconds, MAX_DELAY_SECONDS)),
                MessageAttributes={
                    CORRELATION_ATTRIBUTE: {"DataType": "String", "StringValue": job.correlation_id}
                },
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailable(f"enqueue delivery failed: {exc}") from exc


class HttpxPoster:
    """:class:`~functions.orders.dal.protocol.WebhookPoster` with httpx (no redirects)."""

    def __init__(self, *, timeout_seconds: float = 10.0) -> None:
        self._client = httpx.Client(timeout=timeout_seconds, follow_redirects=False)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        try:
            answer = self._client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            raise OSError(f"{type(exc).__name__}: {exc}") from exc
        return int(answer.status_code)


def resolve_host(host: str) -> list[str]:
    """Every address ``host`` resolves to (``OSError`` when it does not resolve)."""
    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return sorted({str(info[4][0]) for info in infos})
