"""Fixtures of the provision tests: the admin API over moto, a fake LiveKit on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources
from atende_shared.dal.tenants import tenant_store
from tests.provision.apigw import Answer, call

API_KEY = "devkey"
API_SECRET = "devsecret-devsecret-devsecret-0123"


@pytest.fixture
def admin(aws: LocalResources) -> Iterator[Callable[..., Answer]]:
    """Given the admin API handler wired to a fresh moto account: call(method, path, ...)."""
    from functions.provision.handlers import admin_api

    tenant_store.cache_clear()

    def invoke(method: str, path: str, **kwargs: Any) -> Answer:
        return call(admin_api.handler, method, path, **kwargs)

    yield invoke
    tenant_store.cache_clear()


@pytest.fixture
def fake_lk() -> Iterator[Any]:
    """Given a fake LiveKit SIP API on loopback (fresh state, no faults)."""
    from atende_local import fake_livekit

    handle = fake_livekit.start(api_key=API_KEY, api_secret=API_SECRET, race_window_seconds=0.02)
    yield handle
    handle.stop()


@pytest.fixture
def stack(aws: LocalResources, fake_lk: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Given moto + the fake LiveKit + the env every provision function reads."""
    from atende_shared.settings import reset_settings_cache
    from functions.provision.dal.leases import lease_store
    from functions.provision.dal.phones import phone_store
    from functions.provision.handlers import deps

    monkeypatch.setenv("LIVEKIT_URL", fake_lk.url)
    monkeypatch.setenv("LIVEKIT_API_KEY", API_KEY)
    monkeypatch.setenv("LIVEKIT_API_SECRET", API_SECRET)
    monkeypatch.setenv("ATENDE_SIP_RETRY_BASE_SECONDS", "0.01")
    monkeypatch.setenv("ATENDE_SIP_RETRY_ATTEMPTS", "2")
    monkeypatch.setenv("ATENDE_LIVEKIT_TIMEOUT_SECONDS", "2")
    for cached in (tenant_store, phone_store, lease_store, deps.breaker):
        cached.cache_clear()
    reset_settings_cache()
    yield Stack(aws, fake_lk)
    for cached in (tenant_store, phone_store, lease_store, deps.breaker):
        cached.cache_clear()


class Stack:
    """moto resources + fake LiveKit, with helpers to call the functions like AWS does."""

    def __init__(self, aws: LocalResources, fake: Any) -> None:
        self.aws = aws
        self.fake = fake

    def admin(self, method: str, path: str, **kwargs: Any) -> Answer:
        from functions.provision.handlers import admin_api

        return call(admin_api.handler, method, path, **kwargs)

    @property
    def queue_url(self) -> str:
        return self.aws.queues["provisioning"].url

    def receive(self, *, wait: int = 0) -> list[dict[str, Any]]:
        """Take every visible message off the provisioning queue (SQS shape)."""
        from atende_shared.aws import client

        messages: list[dict[str, Any]] = []
        while True:
            answer = client("sqs").receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                WaitTimeSeconds=wait,
            )
            batch = answer.get("Messages", [])
            if not batch:
                return messages
            messages += batch

    def worker_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda SQS event for ``messages`` (as the event source mapping builds it)."""
        return {
            "Records": [
                {
                    "messageId": m["MessageId"],
                    "receiptHandle": m["ReceiptHandle"],
                    "body": m["Body"],
                    "attributes": {"ApproximateReceiveCount": "1"},
                    "messageAttributes": {
                        name: {"stringValue": v.get("StringValue"), "dataType": v["DataType"]}
                        for name, v in (m.get("MessageAttributes") or {}).items()
                    },
                    "md5OfBody": m["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": self.aws.queues["provisioning"].arn,
                    "awsRegion": "us-east-1",
                }
                for m in messages
            ]
        }

    def pump(self) -> dict[str, Any]:
        """Deliver every queued message to the worker; delete the ones it did not fail."""
        from atende_shared.aws import client
        from functions.provision.handlers import worker
        from tests.provision.apigw import lambda_context

        messages = self.receive()
        if not messages:
            return {"batchItemFailures": []}
        answer = worker.handler(self.worker_event(messages), lambda_context())
        failed = {f["itemIdentifier"] for f in answer["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] not in failed:
                client("sqs").delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"]
                )
        return dict(answer)
