"""The orders handlers as Lambda runs them, on moto: the admin API's answers and error
bodies, and the kitchen consumer's partial batch failures."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources
from atende_local.runtime import LambdaContext
from atende_shared.aws import client
from atende_shared.dal.tenants import tenant_store
from functions.orders.handlers import admin_api, intake
from functions.orders.handlers.deps import reset_deps
from tests.orders.conftest import TENANT, placed, tenant


def context() -> Any:
    return LambdaContext(function_name="orders-test", memory_limit_in_mb=512, timeout_seconds=30)


@pytest.fixture
def env(aws: LocalResources) -> Iterator[LocalResources]:
    """Given the moto account with the tenant, and the handlers' cached deps forgotten."""
    reset_deps()
    tenant_store(aws.tables["main"]).create_tenant(tenant())
    yield aws
    reset_deps()


def sqs_event(bodies: list[str]) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test-kitchen",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def bus_body(event: Any) -> str:
    """What an EventBridge rule delivers to an SQS target."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": event.detail_type,
            "source": "atende",
            "detail": json.loads(event.model_dump_json()),
        }
    )


def api(
    method: str,
    suffix: str,
    *,
    body: Any = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    path = f"/v1/tenants/{TENANT}{suffix}"
    all_headers = {"content-type": "application/json", **(headers or {})}
    event = {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "requestContext": {
            "requestId": str(uuid.uuid4()),
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "stage": "test",
            "identity": {"userArn": "arn:aws:iam::1:user/clerk", "sourceIp": "127.0.0.1"},
        },
        "body": json.dumps(body) if body is not None else None,
        "isBase64Encoded": False,
    }
    answer = admin_api.handler(event, context())
    return answer["statusCode"], json.loads(answer["body"])


def test_kitchen_batch_fails_only_the_bad_record_and_the_api_shows_the_order(env):
    # Given a batch: a good OrderPlaced, a malformed one and a call outcome
    good = bus_body(placed("ord-1"))
    answer = intake.handler(sqs_event([good, '{"detail-type": "OrderPlaced"}', good]), context())
    # Then the malformed record (a permanent failure) goes to the kitchen DLQ at once with
    # its reason, and nothing is left for redelivery (the shared poison-message policy)
    assert answer["batchItemFailures"] == []
    dead = client("sqs").receive_message(
        QueueUrl=env.queues["kitchen"].dlq_url, MessageAttributeNames=["All"]
    )["Messages"]
    assert [m["Body"] for m in dead] == ['{"detail-type": "OrderPlaced"}']
    assert dead[0]["MessageAttributes"]["atende_failure_reason"]["StringValue"]

    # And the order is listed, readable by id and by number, with what was sent
    status, page = api("GET", "/orders")
    assert status == 200
    assert [(o["order_id"], o["order_number"], o["status"]) for o in page["items"]] == [
        ("ord-1", 1, "received")
    ]
    assert page["next_cursor"] is None
    status, by_number = api("GET", "/orders/by-number/1")
    assert (status, by_number["order_id"]) == (200, "ord-1")
    assert by_number["allowed_transitions"] == ["accepted", "refused", "cancelled"]
    assert by_number["notifications"] == []  # fan-out runs on the notifications queue


def test_status_changes_and_the_platform_error_bodies(env):
    intake.handler(sqs_event([bus_body(placed("ord-1"))]), context())

    # If-Match with the version seen: 200 and the next version
    status, order = api(
        "POST", "/orders/ord-1/status", body={"status": "accepted"}, headers={"If-Match": '"1"'}
    )
    assert (status, order["status"], order["version"]) == (200, "accepted", 2)
    assert order["history"][-1]["actor"] == "arn:aws:iam::1:user/clerk"
    # The same again: a no-op, not an error
    status, again = api("POST", "/orders/ord-1/status", body={"status": "accepted"})
    assert (status, again["version"]) == (200, 2)
    # A stale version: 412
    status, stale = api(
        "POST", "/orders/ord-1/status", body={"status": "preparing"}, headers={"If-Match": '"1"'}
    )
    assert (status, stale["error"]["code"]) == (412, "precondition_failed")
    assert stale["correlation_id"]
    # An illegal move: 409 naming the allowed ones
    status, illegal = api("POST", "/orders/ord-1/status", body={"status": "received"})
    assert (status, illegal["error"]["code"]) == (409, "conflict")
    assert illegal["error"]["details"]["allowed"] == ["preparing", "ready", "cancelled"]
    # Unknown order: 404; bad status: 422; bad cursor: 400
    status, missing = api("POST", "/orders/nope/status", body={"status": "accepted"})
    assert (status, missing["error"]["code"]) == (404, "not_found")
    status, invalid = api("POST", "/orders/ord-1/status", body={"status": "eaten"})
    assert (status, invalid["error"]["code"]) == (422, "validation_failed")
    status, cursor = api("GET", "/orders", query={"cursor": "forged"})
    assert status == 400, cursor


def test_endpoint_registration_refuses_private_addresses(env, monkeypatch):
    status, body = api("POST", "/order-webhooks", body={"url": "https://10.0.0.8/hook"})
    assert (status, body["error"]["code"]) == (422, "validation_failed")
    assert "private" in body["error"]["message"]
    status, body = api("POST", "/order-webhooks", body={"url": "https://169.254.169.254/x"})
    assert status == 422
    # Locally a developer's receiver on this machine is allowed (http, loopback)
    status, body = api("POST", "/order-webhooks", body={"url": "http://127.0.0.1:9/hook"})
    assert status == 201
    assert body["secret"].startswith("whsec_")
    status, listed = api("GET", "/order-webhooks")
    assert [e["endpoint_id"] for e in listed["items"]] == [body["endpoint_id"]]
    assert "secret" not in listed["items"][0]

    # Given the function runs in AWS (any stage but local): https and public hosts only
    from atende_shared.settings import reset_settings_cache

    monkeypatch.setenv("ATENDE_STAGE", "prod")
    reset_settings_cache()
    reset_deps()
    for url in ("http://93.184.216.34/x", "https://127.0.0.1/x"):
        status, body = api("POST", "/order-webhooks", body={"url": url})
        assert (status, body["error"]["code"]) == (422, "validation_failed"), url


def test_orders_pages_carry_signed_cursors(env):
    bodies = [bus_body(placed(f"ord-{i}")) for i in range(3)]
    intake.handler(sqs_event(bodies), context())
    status, first = api("GET", "/orders", query={"limit": "2"})
    assert (status, len(first["items"])) == (200, 2)
    status, rest = api("GET", "/orders", query={"limit": "2", "cursor": first["next_cursor"]})
    assert (status, len(rest["items"]), rest["next_cursor"]) == (200, 1, None)
    # A cursor from another filter is refused
    status, _ = api(
        "GET", "/orders", query={"limit": "2", "cursor": first["next_cursor"], "status": "ready"}
    )
    assert status == 400


def test_call_records_join_billing_sessions_with_outcome_and_order(env):
    # Given billing's session of a call (its item layout) and the order that call produced
    from atende_shared.dal.dynamo import table
    from atende_shared.events import CallUsageReported

    main = table(env.tables["main"])
    main.put_item(
        Item={
            "PK": f"TENANT#{TENANT}",
            "SK": "CALL#atd_room_1",
            "tenant_id": TENANT,
            "room_name": "atd_room_1",
            "call_id": "SCL_ord-1",
            "status": "rated",
            "duration_seconds": 95,
            "amount_cents": 143,
            "usage": {"cost_cents": 21},
        }
    )
    main.put_item(
        Item={"PK": f"TENANT#{TENANT}", "SK": "CALLID#SCL_ord-1", "room_name": "atd_room_1"}
    )
    usage = CallUsageReported(
        tenant_id=TENANT,
        correlation_id="c",
        call_id="SCL_ord-1",
        stt_audio_seconds=1,
        llm_prompt_tokens=1,
        llm_completion_tokens=1,
        tts_characters=1,
        outcome="ordered",
        summary="2 pizzas",
    )
    intake.handler(sqs_event([bus_body(placed("ord-1")), bus_body(usage)]), context())

    # Then the list and the detail show timing, cost, outcome and the order
    status, page = api("GET", "/call-records")
    assert status == 200, page
    [record] = page["items"]
    assert (record["call_id"], record["order_id"], record["order_number"]) == (
        "SCL_ord-1",
        "ord-1",
        1,
    )
    assert (record["charged_cents"], record["provider_cost_cents"]) == (143, 21)
    assert (record["outcome"], record["summary"]) == ("ordered", "2 pizzas")
    status, one = api("GET", "/call-records/atd_room_1")
    assert (status, one["order_id"], one["duration_seconds"]) == (200, "ord-1", 95)
    status, missing = api("GET", "/call-records/nope")
    assert (status, missing["error"]["code"]) == (404, "not_found")
