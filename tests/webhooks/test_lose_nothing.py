"""Through the handler on moto: a failed enqueue answers 5xx and leaves nothing behind, so
the sender's retry succeeds; concurrent and repeated deliveries enqueue exactly once.

The concurrency tests run each copy as its own Lambda environment would (its own
pipeline run and dependencies; no lock in the handler), meeting only in DynamoDB and SQS.
``test_the_concurrency_harness_catches_a_racy_claim`` keeps them honest: with the claim
made racy on purpose, the same harness sees the event enqueued several times."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from atende_shared.aws import client
from atende_shared.messaging import SqsQueueSender
from atende_shared.models.envelope import Provider
from atende_shared.resources import queue_url_env
from atende_shared.settings import load_settings, reset_settings_cache
from atende_shared.tenant_secrets import SecretsManagerReader
from functions.webhooks.dal.dedupe import DynamoDedupeStore
from functions.webhooks.logic.pipeline import IngressDeps, ingest_event
from functions.webhooks.logic.ports import ClaimOutcome, DedupeStore
from functions.webhooks.models.settings import IngressSettings
from tests.moto_support import serialised_moto_requests
from tests.webhooks.cases import CASE_IDS, CASES, Case
from tests.webhooks.conftest import Harness, api_event, invoke


def _table(harness: Harness) -> str:
    return harness.resources.tables["idempotency"]


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


class _SlowSender:
    """The real SQS sender, slowed down so concurrent copies find the claim in flight."""

    def __init__(self, delay: float) -> None:
        self._real = SqsQueueSender()
        self._delay = delay

    def send(self, queue_url: str, body: str, **kwargs: Any) -> None:
        time.sleep(self._delay)
        self._real.send(queue_url, body, **kwargs)


class _NoMetrics:
    def count(self, name: str, provider: Provider, reason: str | None = None) -> None:
        return None


class RacyDedupeStore(DynamoDedupeStore):
    """The claim made racy on purpose: read, then write unconditionally (check-then-act).
    The harness below must catch it: that is what makes the contract test able to fail."""

    def claim(
        self, key: str, *, token: str, now: int, lease_until: int, expires_at: int
    ) -> ClaimOutcome:
        old = self._read(key)
        if old is not None and int(old["expiration"]["N"]) >= now:
            return ClaimOutcome.DONE if old["status"]["S"] == "done" else ClaimOutcome.IN_PROGRESS
        time.sleep(0.05)  # another invocation reads in the meantime, as one would in AWS
        client("dynamodb").put_item(
            TableName=self._table,
            Item={
                "id": {"S": key},
                "status": {"S": "in_progress"},
                "token": {"S": token},
                "lease_until": {"N": str(lease_until)},
                "expiration": {"N": str(expires_at)},
            },
        )
        return ClaimOutcome.CLAIMED


def deliver_concurrently(
    ingress: Harness, case: Case, data: dict[str, Any], store: DedupeStore, copies: int = 5
) -> list[str]:
    """``copies`` deliveries of one event, each as its own Lambda environment would run it
    (its own deps, its own pipeline run), all released at once. They meet only where they
    meet in AWS: DynamoDB and SQS, each request atomic as there."""
    events = [api_event(ingress.request(case, data=data)) for _ in range(copies)]
    settings = load_settings(IngressSettings)
    barrier = threading.Barrier(copies)

    def one(event: dict[str, Any]) -> str:
        deps = IngressDeps(
            settings=settings,
            secrets=SecretsManagerReader(settings.stage),
            dedupe=store,
            sender=_SlowSender(0.2),
            metrics=_NoMetrics(),
        )
        barrier.wait()
        return ingest_event(event, Provider(case.provider), deps).value

    with serialised_moto_requests(), ThreadPoolExecutor(copies) as pool:
        return list(pool.map(one, events))


@pytest.mark.parametrize("case", [c for c in CASES if c.dedupes], ids=lambda c: c.provider)
def test_same_event_five_times_concurrently_is_enqueued_exactly_once(
    ingress: Harness, case: Case
) -> None:
    # Given five deliveries of one event arriving at once, in five environments
    data = case.payload("acme")

    # When they race through the real dedupe store
    outcomes = deliver_concurrently(ingress, case, data, DynamoDedupeStore(_table(ingress)))

    # Then exactly one enqueued it; the others were told "duplicate" (200) or, while the
    # first was still enqueueing, "in_progress" (503 + Retry-After, retried by the sender)
    assert outcomes.count("accepted") == 1, outcomes
    assert set(outcomes) - {"accepted"} <= {"duplicate", "in_progress"}, outcomes
    assert len(ingress.drain(case.queue)) == 1
    # And the senders told to retry later find it done
    for _ in range(outcomes.count("in_progress")):
        assert ingress.send(ingress.request(case, data=data)).body == {"status": "duplicate"}
    assert ingress.total_messages() == 0


def test_the_concurrency_harness_catches_a_racy_claim(ingress: Harness) -> None:
    # Given the dedupe claim made racy on purpose (read, then write), on LiveKit's standard
    # queue (a FIFO queue's 5-minute deduplication would hide the doubles)
    case = CASES[0]  # livekit
    data = case.payload("acme")

    # When five copies race through it
    outcomes = deliver_concurrently(ingress, case, data, RacyDedupeStore(_table(ingress)))

    # Then the contract above is broken, visibly: several copies enqueued the event
    assert outcomes.count("accepted") > 1, outcomes
    assert len(ingress.drain(case.queue)) > 1


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
