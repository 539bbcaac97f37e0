"""Fixtures for the webhook ingress tests: moto resources, seeded secrets, a way to POST an
API Gateway event at the real handler, and a way to read what reached each queue."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from atende_local.bootstrap import LocalResources, create_resources
from atende_shared.aws import client, reset_clients
from atende_shared.resources import Queue
from atende_shared.settings import reset_settings_cache
from atende_shared.tenant_secrets import IntegrationSecret, write_secret
from tests.webhooks.cases import LIVEKIT_KEY, LIVEKIT_SECRET, TENANT_CASES, Case, Req

TENANTS = ("acme", "beta")
INGRESS_QUEUES = (Queue.CALLS, Queue.CATALOG, Queue.PAYMENTS, Queue.MESSAGING)


@dataclass
class FakeContext:
    function_name: str = "test-webhooks-ingress"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:000000000000:function:test"
    aws_request_id: str = "req"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str]


def api_event(req: Req, *, base64_body: bool = False, method: str = "POST") -> dict[str, Any]:
    """The API Gateway REST proxy event for ``req`` (what the gateway and AWS build)."""
    request_id = str(uuid.uuid4())
    if base64_body:
        body: str | None = base64.b64encode(req.body).decode()
    else:
        body = req.body.decode("utf-8", "surrogateescape") if req.body else None
    resource = req.path
    for name, value in req.path_params.items():
        resource = resource.replace(value, "{" + name + "}", 1)
    return {
        "resource": resource,
        "path": req.path,
        "httpMethod": method,
        "headers": dict(req.headers),
        "multiValueHeaders": {k: [v] for k, v in req.headers.items()},
        "queryStringParameters": dict(req.query) or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in req.query.items()} or None,
        "pathParameters": dict(req.path_params) or None,
        "stageVariables": None,
        "requestContext": {
            "requestId": request_id,
            "resourcePath": resource,
            "httpMethod": method,
            "path": f"/prod{req.path}",
            "stage": "prod",
            "accountId": "000000000000",
            "apiId": "local",
            "identity": {"sourceIp": "203.0.113.7"},
        },
        "body": body,
        "isBase64Encoded": base64_body,
    }


def invoke(event: dict[str, Any]) -> Answer:
    from functions.webhooks.handlers.ingress import handler

    answer = handler(event, FakeContext(aws_request_id=str(uuid.uuid4())))
    raw = answer.get("body") or "{}"
    if answer.get("isBase64Encoded"):
        raw = base64.b64decode(raw).decode()
    headers = dict(answer.get("headers") or {})
    for name, values in (answer.get("multiValueHeaders") or {}).items():
        headers.setdefault(name, values[-1])
    return Answer(answer["statusCode"], json.loads(raw), headers)


class Harness:
    def __init__(self, resources: LocalResources) -> None:
        self.resources = resources
        self.secrets: dict[tuple[str, str], str] = {}

    def secret(self, case: Case, tenant: str = "acme") -> str:
        if case.integration is None:
            return LIVEKIT_SECRET
        return self.secrets[(tenant, case.provider)]

    def request(
        self,
        case: Case,
        tenant: str = "acme",
        data: dict[str, Any] | bytes | None = None,
        *,
        secret: str | None = None,
    ) -> Req:
        payload = case.payload(tenant) if data is None else data
        return case.make(tenant, secret or self.secret(case, tenant), payload)

    def send(self, req: Req, *, base64_body: bool = False) -> Answer:
        return invoke(api_event(req, base64_body=base64_body))

    def queue_url(self, queue: Queue) -> str:
        return self.resources.queues[queue.value].url

    def drain(self, queue: Queue) -> list[dict[str, Any]]:
        """Receive and delete every message on ``queue``: [{"body": ..., "attributes": ...}]."""
        sqs = client("sqs")
        url = self.queue_url(queue)
        out: list[dict[str, Any]] = []
        while True:
            got = sqs.receive_message(
                QueueUrl=url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                WaitTimeSeconds=0,
            ).get("Messages", [])
            if not got:
                return out
            for message in got:
                out.append(
                    {
                        "body": json.loads(message["Body"]),
                        "attributes": message.get("MessageAttributes", {}),
                        "system": message.get("Attributes", {}),
                    }
                )
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])

    def queues(self) -> tuple[Queue, ...]:
        return INGRESS_QUEUES

    def total_messages(self) -> int:
        sqs = client("sqs")
        total = 0
        for queue in INGRESS_QUEUES:
            attrs = sqs.get_queue_attributes(
                QueueUrl=self.queue_url(queue),
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            total += int(attrs["ApproximateNumberOfMessages"])
            total += int(attrs["ApproximateNumberOfMessagesNotVisible"])
        return total

    def rotate(self, case: Case, tenant: str, secret: IntegrationSecret) -> None:
        assert case.integration is not None
        write_secret("local", tenant, case.integration, secret)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def ingress_env() -> Iterator[Harness]:
    """Once per module (building moto resources costs ~0.5 s): the ingress function's
    resources, LiveKit credentials, and for tenants acme and beta a distinct secret per
    integration. Tests only ever use fresh event ids, so they never see each other's
    dedupe records; queues are emptied before each test."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        reset_clients()
        reset_settings_cache()
        resources = create_resources(prefix="wh")
        for name, value in resources.env.items():
            patch.setenv(name, value)
        patch.setenv("LIVEKIT_URL", "ws://livekit.invalid:7880")
        patch.setenv("LIVEKIT_API_KEY", LIVEKIT_KEY)
        patch.setenv("LIVEKIT_API_SECRET", LIVEKIT_SECRET)
        reset_settings_cache()
        parameters.clear_caches()
        from functions.webhooks.handlers.ingress import SECRET_MISSES

        SECRET_MISSES.clear()
        harness = Harness(resources)
        for tenant in TENANTS:
            for case in TENANT_CASES:
                value = case.new_secret()
                harness.secrets[(tenant, case.provider)] = value
                assert case.integration is not None
                assert case.secret_field is not None
                harness.rotate(case, tenant, IntegrationSecret(current={case.secret_field: value}))
        yield harness
    parameters.clear_caches()
    reset_clients()
    reset_settings_cache()


@pytest.fixture
def ingress(ingress_env: Harness) -> Iterator[Harness]:
    """Given the module's ingress environment with every queue empty."""
    for queue in INGRESS_QUEUES:  # PurgeQueue is limited to once a minute: receive instead
        ingress_env.drain(queue)
    yield ingress_env
    reset_settings_cache()  # a test may have changed the environment through monkeypatch
