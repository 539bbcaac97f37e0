"""Fixtures of the provision tests: the admin API over moto, a fake LiveKit on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from moto import mock_aws

from atende_local.bootstrap import LocalResources, create_resources
from atende_local.fake_livekit import DEV_API_KEY, DEV_API_SECRET
from atende_shared.aws import reset_clients
from atende_shared.dal.tenants import tenant_store
from atende_shared.settings import reset_settings_cache
from tests.provision.apigw import Answer, call

API_KEY = DEV_API_KEY
API_SECRET = DEV_API_SECRET


@pytest.fixture(scope="module")
def moto_module() -> Iterator[LocalResources]:
    """One moto account per test module: creating every declared resource costs ~0.7 s,
    too much per test on a shared 2-core machine; ``aws_clean`` empties it between tests."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        reset_clients()
        reset_settings_cache()
        resources = create_resources(prefix="test")
        for name, value in resources.env.items():
            patch.setenv(name, value)
        reset_settings_cache()
        yield resources
    reset_clients()
    reset_settings_cache()


@pytest.fixture
def aws_clean(moto_module: LocalResources) -> LocalResources:
    """Given the module's moto account, emptied: no items, no queued messages."""
    from atende_shared.aws import client

    ddb = client("dynamodb")
    for table_name in moto_module.tables.values():
        key_names = [
            k["AttributeName"]
            for k in ddb.describe_table(TableName=table_name)["Table"]["KeySchema"]
        ]
        pages = ddb.get_paginator("scan").paginate(
            TableName=table_name,
            ProjectionExpression=", ".join(f"#k{i}" for i in range(len(key_names))),
            ExpressionAttributeNames={f"#k{i}": name for i, name in enumerate(key_names)},
        )
        for page in pages:
            for item in page.get("Items", []):
                ddb.delete_item(TableName=table_name, Key={k: item[k] for k in key_names})
    # PurgeQueue is rate-limited (once a minute, moto enforces it too) and cannot reach
    # in-flight messages, so empty moto's queues directly: this is test plumbing only.
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.sqs.models import sqs_backends

    for queue in sqs_backends[DEFAULT_ACCOUNT_ID]["us-east-1"].queues.values():
        queue._messages.clear()
    reset_settings_cache()
    return moto_module


@pytest.fixture
def admin(aws_clean: LocalResources) -> Iterator[Callable[..., Answer]]:
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
def stack(
    aws_clean: LocalResources, fake_lk: Any, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Any]:
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
    # The restaurant-user pool that invitations (POST .../users) write to.
    from atende_local.tenant_auth import create_user_pool

    pool = create_user_pool("atende-test-tenant-users", region="us-east-1")
    monkeypatch.setenv("ATENDE_TENANT_USER_POOL_ID", pool.user_pool_id)
    for cached in (tenant_store, phone_store, lease_store, deps.breaker):
        cached.cache_clear()
    reset_settings_cache()
    yield Stack(aws_clean, fake_lk)
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
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
                WaitTimeSeconds=wait,
            )
            batch = answer.get("Messages", [])
            if not batch:
                return messages
            messages += batch

    def worker_event(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """The Lambda SQS event for ``messages`` (as the event source mapping builds it)."""
        from atende_local.pumps import sqs_record
        from atende_local.runtime import LOCAL_REGION

        arn = self.aws.queues["provisioning"].arn
        return {"Records": [sqs_record(m, queue_arn=arn, region=LOCAL_REGION) for m in messages]}

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


@pytest.fixture(params=["fake", pytest.param("real", marks=pytest.mark.media)])
def sip_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    """Given a LiveKit SIP API: the fake, or the real livekit-server (the same contract).

    The real one is the session's media stack (skipped when it is not installed), wiped
    before each test; the fake is fresh per test.
    """
    if request.param == "fake":
        yield request.getfixturevalue("fake_lk")
        return
    from tests.provision.servers import RealSipServer

    stack = request.getfixturevalue("media_stack")
    server = RealSipServer(stack.http_url, API_KEY, API_SECRET)
    server.reset()
    yield server
    server.reset()
