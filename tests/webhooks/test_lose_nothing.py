"""Through the handler on moto: a failed enqueue answers 5xx and leaves nothing behind, so
the sender's retry succeeds; concurrent and repeated deliveries enqueue once."""

from __future__ import annotations

import threading
import time

import pytest

from atende_shared.aws import client
from atende_shared.resources import queue_url_env
from atende_shared.settings import reset_settings_cache
from tests.webhooks.cases import CASE_IDS, CASES, Case
from tests.webhooks.conftest import Answer, Harness, api_event, invoke


def _dedupe_items(harness: Harness) -> list[dict]:
    table = harness.resources.tables["idempotency"]
    return client("dynamodb").scan(TableName=table)["Items"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_failed_enqueue_is_5xx_and_the_retry_is_enqueued_then_deduped(
    ingress: Harness, case: Case, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the provider's queue is unreachable (its URL points at no queue)
    data = case.payload("acme")
    before = len(_dedupe_items(ingress))
    good_url = ingress.queue_url(case.queue)
    monkeypatch.setenv(queue_url_env(case.queue), good_url + "-gone")
    reset_settings_cache()

    # When the delivery arrives, then 503 and no dedupe record is left
    failed = ingress.send(ingress.request(case, data=data))
    assert failed.status == 503
    assert len(_dedupe_items(ingress)) == before
    assert ingress.total_messages() == 0

    # When the queue is back and the sender retries (same event, twice)
    monkeypatch.setenv(queue_url_env(case.queue), good_url)
    reset_settings_cache()
    retry = ingress.send(ingress.request(case, data=data))
    again = ingress.send(ingress.request(case, data=data))

    # Then the retry is enqueued once, and the next is a duplicate
    assert retry.status == 200
    assert retry.body == {"status": "accepted"}
    assert again.status == 200
    expected = 1 if case.dedupes else 2
    assert len(ingress.drain(case.queue)) == expected


@pytest.mark.parametrize("case", [c for c in CASES if c.dedupes], ids=lambda c: c.provider)
def test_same_event_five_times_concurrently_is_enqueued_once(ingress: Harness, case: Case) -> None:
    # Given five deliveries of one event arriving at once (as the local gateway runs them)
    data = case.payload("acme")
    events = [api_event(ingress.request(case, data=data)) for _ in range(5)]
    answers: list[Answer] = []
    barrier = threading.Barrier(5)

    def deliver(event: dict) -> None:
        barrier.wait()
        answers.append(invoke(event))

    threads = [threading.Thread(target=deliver, args=(e,)) for e in events]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then every answer is 200 and one message is on the queue
    assert sorted(a.body["status"] for a in answers) == ["accepted"] + ["duplicate"] * 4
    assert len(ingress.drain(case.queue)) == 1


def test_delivery_finding_a_live_claim_is_told_to_retry_later(ingress: Harness) -> None:
    # Given another invocation holds the claim on this event (lease still running)
    case = CASES[1]  # bling
    data = case.payload("acme")
    table = ingress.resources.tables["idempotency"]
    now = int(time.time())
    client("dynamodb").put_item(
        TableName=table,
        Item={
            "id": {"S": f"webhook#acme#bling#{data['eventId']}"},
            "status": {"S": "in_progress"},
            "token": {"S": "someone-else"},
            "lease_until": {"N": str(now + 30)},
            "expiration": {"N": str(now + 3600)},
        },
    )

    # When the duplicate arrives, then 503 with Retry-After and nothing enqueued
    answer = ingress.send(ingress.request(case, data=data))
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "30"
    assert ingress.total_messages() == 0


def test_dedupe_record_carries_key_status_and_ttl(ingress: Harness) -> None:
    case = CASES[2]  # asaas
    data = case.payload("beta")
    assert ingress.send(ingress.request(case, "beta", data)).status == 200
    key = f"webhook#beta#asaas#{data['id']}"
    item = client("dynamodb").get_item(
        TableName=ingress.resources.tables["idempotency"], Key={"id": {"S": key}}
    )["Item"]
    assert item["status"]["S"] == "done"
    # The record outlives Asaas' replay window (14 days + a day of margin) and the clock
    # tolerance, so every replay the window accepts is still a known duplicate
    ttl = int(item["expiration"]["N"]) - time.time()
    assert 15 * 86_400 < ttl <= 15 * 86_400 + 300


def test_unknown_route_and_method_are_not_500(ingress: Harness) -> None:
    req = ingress.request(CASES[1])
    event = api_event(req, method="GET")
    assert invoke(event).status in (404, 405)
    req.path = "/webhooks/nobody/acme"
    assert invoke(api_event(req)).status == 404


def test_tenant_comes_from_the_route_when_the_gateway_omits_path_parameters(
    ingress: Harness,
) -> None:
    case = CASES[1]  # bling
    event = api_event(ingress.request(case, "beta"))
    event["pathParameters"] = None
    assert invoke(event).status == 200
    [message] = ingress.drain(case.queue)
    assert message["body"]["tenant_id"] == "beta"
