"""The provisioning worker Lambda: partial batch failures, 4xx vs 5xx, bad messages."""

from __future__ import annotations

import json

import pytest

from functions.provision.handlers import worker
from tests.provision.apigw import lambda_context
from tests.provision.conftest import Stack

TENANT = "pizzaria-bella"
NUMBER = "+551130000001"


def given_assigned(stack: Stack, *numbers: str) -> None:
    stack.admin("POST", "/v1/tenants", body={"tenant_id": TENANT, "name": "Bella"})
    for number in numbers:
        assert (
            stack.admin(
                "POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": number}
            ).status
            == 202
        )


def status_of(stack: Stack, number: str) -> dict[str, object]:
    items = stack.admin("GET", f"/v1/tenants/{TENANT}/phone-numbers").body["items"]
    return next(i for i in items if i["number"] == number)


def test_only_the_failing_record_is_returned_to_the_queue(stack: Stack) -> None:
    # Given two numbers, and LiveKit failing every create for the second with 503
    given_assigned(stack, NUMBER, "+551130000002")
    messages = stack.receive()
    assert len(messages) == 2
    stack.fake.fail_next("CreateSIPInboundTrunk", count=1, status=503)  # first attempt only...
    stack.fake.fail_next("CreateSIPInboundTrunk", count=1, status=503)  # ...and its retry
    # When the batch is processed
    answer = worker.handler(stack.worker_event(messages), lambda_context())
    # Then exactly one record failed (retryable); the other number is active
    assert len(answer["batchItemFailures"]) == 1
    failed_id = answer["batchItemFailures"][0]["itemIdentifier"]
    failed_body = json.loads(next(m["Body"] for m in messages if m["MessageId"] == failed_id))
    assert failed_body["number"] == NUMBER
    assert status_of(stack, NUMBER)["status"] == "pending"
    assert status_of(stack, "+551130000002")["status"] == "active"


def test_livekit_4xx_is_not_retried_but_shows_on_the_number(stack: Stack) -> None:
    given_assigned(stack, NUMBER)
    stack.fake.fail_next("CreateSIPInboundTrunk", status=400, code="invalid_argument")
    answer = stack.pump()
    assert answer["batchItemFailures"] == []
    phone = status_of(stack, NUMBER)
    assert phone["status"] == "error"
    assert "LiveKit refused CreateSIPInboundTrunk" in str(phone["error"])
    # Re-assigning retries it
    assert (
        stack.admin("POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": NUMBER}).status
        == 202
    )
    assert stack.pump()["batchItemFailures"] == []
    assert status_of(stack, NUMBER)["status"] == "active"


def test_garbage_message_fails_its_record(stack: Stack) -> None:
    event = stack.worker_event(
        [
            {
                "MessageId": "m-1",
                "ReceiptHandle": "r-1",
                "Body": json.dumps({"kind": "explode"}),
                "MD5OfBody": "x",
            }
        ]
    )
    answer = worker.handler(event, lambda_context())
    assert answer["batchItemFailures"] == [{"itemIdentifier": "m-1"}]


def test_livekit_not_configured_fails_records_for_retry(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from atende_shared.settings import reset_settings_cache

    given_assigned(stack, NUMBER)
    monkeypatch.delenv("LIVEKIT_URL")
    reset_settings_cache()
    answer = stack.pump()
    assert len(answer["batchItemFailures"]) == 1


def test_records_are_not_started_without_enough_time_left(stack: Stack) -> None:
    from typing import cast

    from aws_lambda_powertools.utilities.typing import LambdaContext

    from tests.provision.apigw import LambdaContextStub

    class AlmostOut(LambdaContextStub):
        def get_remaining_time_in_millis(self) -> int:
            return 5_000

    given_assigned(stack, NUMBER)
    messages = stack.receive()
    answer = worker.handler(stack.worker_event(messages), cast(LambdaContext, AlmostOut()))
    assert answer["batchItemFailures"] == [{"itemIdentifier": messages[0]["MessageId"]}]
    assert stack.fake.calls == []
