"""The Lambda entry points on moto: SQS partial batches, the admin API, the jobs."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende_local import apigw
from atende_local.runtime import LambdaContext
from atende_shared.aws import client
from atende_shared.dal.dynamo import table
from atende_shared.dal.keys import tenant_pk
from functions.billing.handlers import admin_api, calls, jobs, payments, sweeper
from functions.billing.logic.rating import usage_month
from tests.billing.builders import (
    asaas_envelope,
    asaas_payload,
    eventbridge_body,
    livekit_envelope,
    livekit_payload,
    room_for,
    usage_report,
)
from tests.billing.conftest import TENANT

NOW = datetime.now(UTC).replace(microsecond=0)


def context(name: str = "billing-test") -> Any:
    return LambdaContext(function_name=name, memory_limit_in_mb=512, timeout_seconds=30)


def sqs_event(bodies: list[str], *, fifo: bool = False) -> dict[str, Any]:
    records = []
    for body in bodies:
        attributes: dict[str, Any] = {"ApproximateReceiveCount": "1"}
        if fifo:
            attributes |= {"MessageGroupId": TENANT, "SequenceNumber": "1"}
        records.append(
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": "rh",
                "body": body,
                "attributes": attributes,
                "messageAttributes": {
                    "correlation_id": {"stringValue": "cid-1", "dataType": "String"}
                },
                "md5OfBody": "x",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:"
                + ("test-payments.fifo" if fifo else "test-calls"),
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def api_event(
    method: str, path: str, *, body: Any = None, query: dict[str, str] | None = None, user_arn=None
) -> dict[str, Any]:
    """The API Gateway event for a billing route (the local gateway's own builder)."""
    return apigw.api_event(
        method, path, body=body, query=query, caller={"userArn": user_arn} if user_arn else None
    )


def call_bodies(room: str, seconds: int) -> list[str]:
    start = NOW - timedelta(seconds=seconds + 10)
    bodies = []
    for kind, at in (
        ("room_started", start),
        ("participant_joined", start),
        ("participant_left", start + timedelta(seconds=seconds)),
        ("room_finished", start + timedelta(seconds=seconds + 3)),
    ):
        payload = livekit_payload(
            kind, room_name=room, at=at, event_id=f"{room}-{kind}", joined_at=start
        )
        bodies.append(livekit_envelope(TENANT, payload).model_dump_json())
    return bodies


def api(method: str, suffix: str, **kwargs: Any) -> tuple[int, Any]:
    answer = admin_api.handler(
        api_event(method, f"/v1/tenants/{TENANT}{suffix}", **kwargs), context()
    )
    return answer["statusCode"], json.loads(answer["body"])


def _dead_letters(queue: str) -> list[dict[str, Any]]:
    sqs = client("sqs")
    [url] = [
        u
        for u in sqs.list_queues()["QueueUrls"]
        if u.split("/")[-1].startswith(f"test-{queue}-dlq")
    ]
    got = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
    )
    return got.get("Messages", [])


def test_calls_batch_dead_letters_only_the_bad_record_at_once(moto_deps):
    # Given a funded tenant and a batch: a whole call, a usage report and one bad record
    payment = asaas_envelope(
        TENANT, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=100.0)
    )
    assert payments.handler(sqs_event([payment.model_dump_json()], fifo=True), context()) == {
        "batchItemFailures": []
    }
    room = room_for(TENANT, "handler")
    bodies = [*call_bodies(room, 120), "not json", eventbridge_body(usage_report(TENANT, room))]
    event = sqs_event(bodies)
    # When the calls consumer handles it
    answer = calls.handler(event, context())
    # Then the malformed record (it can never succeed) is on the DLQ at once, with its
    # reason and correlation id, and nothing is left for redelivery
    assert answer == {"batchItemFailures": []}
    [dead] = _dead_letters("calls")
    assert dead["Body"] == "not json"
    attributes = dead["MessageAttributes"]
    assert attributes["atende_failure_reason"]["StringValue"] == "malformed_request"
    assert attributes["correlation_id"]["StringValue"] == "cid-1"
    # And the call is charged, its cost attributed, visible in the admin API
    status, body = api("GET", "/calls")
    assert status == 200
    (call,) = body["items"]
    assert (call["status"], call["duration_seconds"], call["amount_cents"]) == ("rated", 120, 180)
    assert call["cost_cents"] > 0
    assert call["margin_cents"] == 180 - call["cost_cents"]
    status, body = api("GET", "/balance")
    assert (status, body["balance_cents"], body["reserved_cents"]) == (200, 10_000 - 180, 0)


def test_usage_by_sip_call_id_finds_the_session(moto_deps):
    room = room_for(TENANT, "bysip")
    calls.handler(sqs_event(call_bodies(room, 60)), context())
    report = usage_report(TENANT, "SCL_test", stt_audio_seconds=60.0)
    assert calls.handler(sqs_event([eventbridge_body(report)]), context()) == {
        "batchItemFailures": []
    }
    _, body = api("GET", "/calls")
    assert body["items"][0]["cost_breakdown"]["models"]["stt"] == "deepgram/nova-3"


def test_usage_for_an_unknown_call_is_retried(moto_deps):
    # Given a usage report for a call billing has not seen, next to a good record
    report = usage_report(TENANT, "SCL_unknown")
    room = room_for(TENANT, "other")
    event = sqs_event([eventbridge_body(report), call_bodies(room, 30)[0]])
    # Then that record alone fails (SQS redelivers it once the session exists)
    answer = calls.handler(event, context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}


def test_admin_credit_ledger_and_errors(moto_deps):
    # When an admin posts a credit
    body = {"amount_cents": 2_500, "reason": "welcome bonus", "idempotency_key": "bonus-1"}
    status, answer = api("POST", "/credits", body=body, user_arn="arn:aws:iam::1:user/ana")
    assert (status, answer["applied"], answer["balance"]["balance_cents"]) == (201, True, 2_500)
    assert answer["entry"]["actor"] == "arn:aws:iam::1:user/ana"
    # The same key again changes nothing
    status, answer = api("POST", "/credits", body=body)
    assert (status, answer["applied"], answer["balance"]["balance_cents"]) == (201, False, 2_500)
    # Locally, without an IAM identity, the actor is the local admin
    status, answer = api(
        "POST", "/credits", body={**body, "idempotency_key": "bonus-2", "amount_cents": -500}
    )
    assert answer["entry"]["actor"] == "local-admin"
    # The ledger pages, and filters by period
    status, page = api("GET", "/ledger", query={"limit": "1"})
    assert (status, len(page["items"]), page["next_cursor"] is not None) == (200, 1, True)
    status, rest = api("GET", "/ledger", query={"cursor": page["next_cursor"]})
    assert [e["amount_cents"] for e in rest["items"]] == [-500]
    future = (NOW + timedelta(days=1)).isoformat()
    _, empty = api("GET", "/ledger", query={"from": future})
    assert empty["items"] == []
    # Errors: validation and unknown tenants
    status, answer = api("POST", "/credits", body={"amount_cents": 1, "reason": "x"})
    assert status == 422
    status, answer = api(
        "POST", "/credits", body={**body, "amount_cents": 0, "idempotency_key": "z"}
    )
    assert status == 422
    missing = admin_api.handler(api_event("GET", "/v1/tenants/nobody-here/balance"), context())
    assert missing["statusCode"] == 404


def test_statements_job_writes_csv_and_json_and_the_api_lists_them(moto_deps, aws):
    api(
        "POST",
        "/credits",
        body={"amount_cents": 1_000, "reason": "top up", "idempotency_key": "s1"},
    )
    period = usage_month(NOW, "America/Sao_Paulo")
    answer = jobs.handler({"job": "statements", "period": period}, context())
    assert len(answer["written"]) == 2
    bucket = aws.buckets["artifacts"]
    csv_key = f"statements/{TENANT}/{period}.csv"
    csv_text = client("s3").get_object(Bucket=bucket, Key=csv_key)["Body"].read().decode()
    assert "manual_credit" in csv_text
    assert csv_text.splitlines()[0].startswith("seq,posted_at,kind")
    status, listing = api("GET", "/statements")
    assert status == 200
    assert listing["items"][0]["period"] == period
    assert listing["items"][0]["closing_balance_cents"] == 1_000
    # And one statement's files download through short-lived presigned links
    status, links = api("GET", f"/statements/{period}")
    assert status == 200, links
    assert f"statements/{TENANT}/{period}.csv" in links["csv_url"]
    assert "Signature" in links["csv_url"]
    assert links["expires_in_seconds"] == 300
    status, missing = api("GET", "/statements/2001-01")
    assert (status, missing["error"]["code"]) == (404, "not_found")


def test_reconcile_job_emits_the_mismatch_metric(moto_deps, capsys):
    api(
        "POST",
        "/credits",
        body={"amount_cents": 1_000, "reason": "top up", "idempotency_key": "r1"},
    )
    assert jobs.handler({"job": "reconcile"}, context())["mismatches"] == []
    table(moto_deps.store._table_name).update_item(
        Key={"PK": tenant_pk(TENANT), "SK": "BALANCE"},
        UpdateExpression="SET balance_cents = :v",
        ExpressionAttributeValues={":v": 1},
    )
    capsys.readouterr()
    answer = jobs.handler({"job": "reconcile"}, context())
    assert answer["mismatches"] == [TENANT]
    emitted = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert any(m.get("LedgerMismatch") == [1.0] or m.get("LedgerMismatch") == 1 for m in emitted)


def test_unknown_job_is_refused(moto_deps):
    from atende_shared.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        jobs.handler({"job": "nope"}, context())


def test_sweeper_handler_closes_stale_sessions(moto_deps):
    room = room_for(TENANT, "stale")
    start = NOW - timedelta(hours=2)
    payload = livekit_payload("participant_joined", room_name=room, at=start, event_id="EVs")
    calls.handler(sqs_event([livekit_envelope(TENANT, payload).model_dump_json()]), context())
    assert sweeper.handler({}, context())["closed"] == 1
    _, body = api("GET", "/calls")
    assert (body["items"][0]["end_reason"], body["items"][0]["billed_seconds"]) == (
        "max_call_length",
        900,
    )


def _payment_batch(moto_deps, first_reference: str | None = None) -> dict[str, Any]:
    """This tenant's p1 (10.00) then p2 (20.00), then loja-dois's p3 (30.00)."""
    from tests.billing.conftest import tenant

    moto_deps.tenants.put_tenant(tenant("loja-dois"))
    first = asaas_payload(
        "PAYMENT_RECEIVED", payment_id="p1", value=10.0, external_reference=first_reference
    )
    good = asaas_payload("PAYMENT_RECEIVED", payment_id="p2", value=20.0)
    other = asaas_payload("PAYMENT_RECEIVED", payment_id="p3", value=30.0)
    bodies = [asaas_envelope(TENANT, p).model_dump_json() for p in (first, good)]
    bodies.append(asaas_envelope("loja-dois", other).model_dump_json())
    event = sqs_event(bodies, fifo=True)
    event["Records"][2]["attributes"]["MessageGroupId"] = "loja-dois"
    return event


def test_a_poison_payment_goes_to_the_dlq_alone_and_the_rest_flow(moto_deps):
    # Given a batch where this tenant's first payment can never be credited (it names
    # another tenant), then a good one for the same tenant, then one for another tenant
    event = _payment_batch(moto_deps, first_reference="atende:outra-loja")
    # When the payments consumer handles it
    answer = payments.handler(event, context())
    # Then nothing waits for redelivery: the poison is on the DLQ with its reason, and the
    # payments behind it (same tenant and another) are credited in this same batch
    assert answer == {"batchItemFailures": []}
    [dead] = _dead_letters("payments")
    assert "outra-loja" in dead["Body"]
    assert dead["MessageAttributes"]["atende_failure_reason"]["StringValue"] == (
        "validation_failed"
    )
    assert moto_deps.store.get_balance(TENANT).balance_cents == 2_000
    assert moto_deps.store.get_balance("loja-dois").balance_cents == 3_000


def test_a_transient_failure_holds_only_its_tenants_group(moto_deps, monkeypatch):
    # Given the ledger fails transiently for this tenant's first payment only
    from atende_shared.errors import DependencyUnavailable

    event = _payment_batch(moto_deps)
    flaky_body = event["Records"][0]["body"]
    real = payments.process_payments_message

    def flaky(deps, body):
        if body == flaky_body:
            raise DependencyUnavailable("ProvisionedThroughputExceeded")
        return real(deps, body)

    monkeypatch.setattr(payments, "process_payments_message", flaky)
    # When the payments consumer handles the batch
    answer = payments.handler(event, context())
    # Then the tenant's two are left for redelivery in order (the later must not overtake
    # the earlier), nothing is dead-lettered, and the other tenant's payment is credited
    assert answer == {
        "batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"][:2]]
    }
    assert _dead_letters("payments") == []
    assert moto_deps.store.get_balance(TENANT).balance_cents == 0
    assert moto_deps.store.get_balance("loja-dois").balance_cents == 3_000


def test_grant_credit_builds_its_dependencies_from_the_environment(moto_deps):
    # Given only the environment (what the local platform's seed has)
    from functions.billing.handlers.deps import grant_credit

    # When the seed credits the opening balance twice with the same reference
    first = grant_credit(tenant_id=TENANT, amount_cents=50_000, reference="demo-opening-balance")
    again = grant_credit(tenant_id=TENANT, amount_cents=50_000, reference="demo-opening-balance")
    # Then it is credited once, by the seed
    assert (first.applied, again.applied) == (True, False)
    _, body = api("GET", "/ledger")
    assert [(e["amount_cents"], e["actor"]) for e in body["items"]] == [(50_000, "local-seed")]


def test_a_ledger_cursor_cannot_reach_another_tenant(moto_deps):
    # Given two funded tenants, each with a ledger longer than one page
    from functions.billing.logic.credits import credit
    from tests.billing.conftest import tenant

    other = "outra-pizzaria"
    moto_deps.tenants.put_tenant(tenant(other))
    for tenant_id in (TENANT, other):
        for n in range(2):
            credit(tenant_id, 100 + n, "seed", "test", f"seed-{n}", deps=moto_deps)

    def ledger(tenant_id: str, query: dict[str, str]) -> tuple[int, Any]:
        answer = admin_api.handler(
            api_event("GET", f"/v1/tenants/{tenant_id}/ledger", query=query), context()
        )
        return answer["statusCode"], json.loads(answer["body"])

    _, theirs = ledger(other, {"limit": "1"})
    _, mine = ledger(TENANT, {"limit": "1"})
    # When the other tenant's cursor is presented on this tenant's ledger
    status, refused = ledger(TENANT, {"cursor": theirs["next_cursor"]})
    # Then it is a 400 with the platform's error body (not a storage error, no entries)
    assert status == 400
    assert refused["error"]["code"] == "malformed_request"
    assert refused["correlation_id"]
    # And a cursor rewritten to name the other tenant's partition is refused the same way
    head, _payload, tag = mine["next_cursor"].split(".")
    forged_payload = theirs["next_cursor"].split(".")[1]
    status, _ = ledger(TENANT, {"cursor": f"{head}.{forged_payload}.{tag}"})
    assert status == 400
    # While this tenant's own cursor still reads its own next page
    status, rest = ledger(TENANT, {"cursor": mine["next_cursor"]})
    assert status == 200
    assert {e["tenant_id"] for e in rest["items"]} == {TENANT}


@pytest.mark.parametrize(
    "body",
    [
        {"amount_cents": "100", "reason": "welcome bonus", "idempotency_key": "s-1"},
        {"amount_cents": 100.0, "reason": "welcome bonus", "idempotency_key": "s-2"},
        {"amount_cents": True, "reason": "welcome bonus", "idempotency_key": "s-3"},
        {"amount_cents": 5_000_001, "reason": "welcome bonus", "idempotency_key": "s-4"},
        {"amount_cents": -5_000_001, "reason": "big correction", "idempotency_key": "s-5"},
        {"amount_cents": 100, "reason": "     ", "idempotency_key": "s-6"},
        {"amount_cents": 100, "idempotency_key": "s-7"},
    ],
)
def test_manual_money_is_strict_cents_within_limits_with_a_reason(moto_deps, body):
    # When an admin posts a credit whose amount is a string, a float, a bool, over the
    # manual limit, or has no real reason
    status, answer = api("POST", "/credits", body=body)
    # Then it is refused with the field named, and nothing reaches the ledger
    assert status == 422, answer
    assert answer["error"]["code"] == "validation_failed"
    _, ledger = api("GET", "/ledger")
    assert ledger["items"] == []
