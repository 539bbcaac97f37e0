"""The load scenario: hundreds of payments and call events, each delivered several times,
all in parallel, through the real ingress and then the real billing consumers (with SQS
redelivering every batch once more): nothing lost, nothing doubled.

Each delivery runs as its own Lambda environment would (its own pipeline run), meeting the
others only in DynamoDB and SQS (``tests.moto_support``: each request atomic, as in AWS).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from atende_shared.aws import client
from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import SqsQueueSender
from atende_shared.models.envelope import Provider
from atende_shared.resources import Queue
from atende_shared.settings import load_settings
from atende_shared.tenant_secrets import SecretsManagerReader
from functions.billing.handlers import calls as calls_consumer
from functions.billing.handlers import payments as payments_consumer
from functions.billing.handlers.deps import default_deps, reset_default_deps
from functions.billing.models.ledger import EntryKind
from functions.webhooks.dal.dedupe import dedupe_store
from functions.webhooks.logic.pipeline import IngressDeps, ingest_event
from functions.webhooks.models.settings import IngressSettings
from tests.billing.builders import livekit_payload, room_for
from tests.billing.conftest import tenant
from tests.webhooks.cases import CASES, Req, now_brt
from tests.webhooks.conftest import FakeContext, Harness, api_event

LIVEKIT, BLING, ASAAS, *_ = CASES
TENANT = "acme"
PAYMENTS = 100  # distinct payments, each delivered 3 times
CALLS = 25  # distinct calls of 4 events each, each event delivered 2 times
SECONDS = 60  # every call lasts a minute


class _NoMetrics:
    def count(self, name: str, provider: Provider, reason: str | None = None) -> None:
        return None


def _payment(n: int) -> dict[str, Any]:
    return {
        "id": f"evt_load_{n:04d}&1",
        "event": "PAYMENT_RECEIVED",
        "dateCreated": now_brt(),
        "payment": {"object": "payment", "id": f"pay_load_{n:04d}", "value": 10.0 + n % 7,
                    "customer": "cus_load", "status": "RECEIVED"},
    }  # fmt: skip


def _call_events(n: int) -> list[dict[str, Any]]:
    room = room_for(TENANT, f"load{n:04d}")
    start = datetime.now(UTC) - timedelta(seconds=SECONDS + 30)
    moments = {
        "room_started": start,
        "participant_joined": start,
        "participant_left": start + timedelta(seconds=SECONDS),
        "room_finished": start + timedelta(seconds=SECONDS + 2),
    }
    return [
        livekit_payload(
            kind, room_name=room, at=at, event_id=f"EV_{n:04d}_{kind}", joined_at=start,
            call_id=f"SCL_load_{n:04d}",
        )
        for kind, at in moments.items()
    ]  # fmt: skip


def _ingest_all(ingress: Harness, deliveries: list[tuple[Provider, Req]]) -> Counter[str]:
    settings = load_settings(IngressSettings)
    local = threading.local()

    def one(item: tuple[Provider, Req]) -> str:
        provider, req = item
        if not hasattr(local, "deps"):
            local.deps = IngressDeps(
                settings=settings,
                secrets=SecretsManagerReader(settings.stage),
                dedupe=dedupe_store(settings.idempotency_table),
                sender=SqsQueueSender(),
                metrics=_NoMetrics(),
            )
        return ingest_event(api_event(req), provider, local.deps).value

    with ThreadPoolExecutor(8) as pool:
        outcomes = Counter(pool.map(one, deliveries))
    return outcomes


def _records(ingress: Harness, queue: Queue) -> list[dict[str, Any]]:
    """Everything on ``queue``, as Lambda's SQS event records (and deleted from it)."""
    sqs = client("sqs")
    url = ingress.queue_url(queue)
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    records: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages", [])
        if not got:
            return records
        for message in got:
            attributes = {
                k: {"stringValue": v["StringValue"], "dataType": v["DataType"]}
                for k, v in message.get("MessageAttributes", {}).items()
            }
            records.append(
                {
                    "messageId": message["MessageId"],
                    "receiptHandle": message["ReceiptHandle"],
                    "body": message["Body"],
                    "attributes": message.get("Attributes", {}),
                    "messageAttributes": attributes,
                    "md5OfBody": message["MD5OfBody"],
                    "eventSource": "aws:sqs",
                    "eventSourceARN": arn,
                    "awsRegion": "us-east-1",
                }
            )
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _consume(handler: Any, records: list[dict[str, Any]]) -> None:
    """Every batch of 10 handled, then handled again (SQS delivers at least once)."""
    for start in range(0, len(records), 10):
        batch = {"Records": records[start : start + 10]}
        for _ in range(2):
            assert handler(batch, FakeContext()) == {"batchItemFailures": []}


def test_hundreds_of_duplicated_payments_and_call_events_lose_nothing_double_nothing(
    ingress: Harness,
) -> None:
    # Given a tenant, 100 payments delivered 3 times each and 25 calls whose 4 events are
    # delivered twice each, shuffled and sent by 8 senders at once
    reset_default_deps()
    tenant_store(ingress.resources.tables["main"]).put_tenant(tenant(TENANT))
    payments = [_payment(n) for n in range(PAYMENTS)]
    events = [e for n in range(CALLS) for e in _call_events(n)]
    deliveries: list[tuple[Provider, Req]] = []
    for data in payments:
        deliveries += [(Provider.ASAAS, ingress.request(ASAAS, TENANT, data))] * 3
    for data in events:
        deliveries += [(Provider.LIVEKIT, ingress.request(LIVEKIT, TENANT, data))] * 2
    random.Random(13).shuffle(deliveries)

    # When they all arrive
    outcomes = _ingest_all(ingress, deliveries)

    # Then each distinct event was accepted exactly once; every copy was a duplicate or was
    # told to retry (503); the queues hold one message per event
    distinct = PAYMENTS + len(events)
    assert outcomes["accepted"] == distinct, outcomes
    assert outcomes["accepted"] + outcomes["duplicate"] + outcomes["in_progress"] == len(deliveries)
    payment_records = _records(ingress, Queue.PAYMENTS)
    call_records = _records(ingress, Queue.CALLS)
    assert Counter(json.loads(r["body"])["provider_event_id"] for r in payment_records) == {
        p["id"]: 1 for p in payments
    }
    assert len(call_records) == len(events)

    # When billing consumes them, every batch delivered twice
    _consume(payments_consumer.handler, payment_records)
    random.Random(7).shuffle(call_records)  # a standard queue: any order
    _consume(calls_consumer.handler, call_records)

    # Then lost = 0 and doubled = 0: one credit per payment, one charge per call, and the
    # balance is exactly credits minus charges
    deps = default_deps()
    ledger = list(deps.store.iter_ledger(TENANT))
    credits = Counter(
        e.reference.get("payment_id") for e in ledger if e.kind is EntryKind.PAYMENT_CREDIT
    )
    charges = [e for e in ledger if e.kind is EntryKind.CALL_CHARGE]
    lost = PAYMENTS - len(credits)
    doubled = sum(count - 1 for count in credits.values())
    assert (lost, doubled) == (0, 0)
    expected_cents = sum(1_000 + (n % 7) * 100 for n in range(PAYMENTS))
    assert sum(e.amount_cents for e in ledger if e.kind is EntryKind.PAYMENT_CREDIT) == (
        expected_cents
    )
    assert len(charges) == CALLS
    assert len({e.business_id for e in charges}) == CALLS
    balance = deps.store.get_balance(TENANT)
    assert balance.balance_cents == sum(e.amount_cents for e in ledger)
    reset_default_deps()
