"""Order write-back to Bling: exactly once under retries, duplicates and crashes."""

from __future__ import annotations

import json

import pytest

from atende_shared.events import OrderLine, OrderPlaced
from functions.sync.dal.dynamo import DynamoLock, DynamoOrderSyncRepository
from functions.sync.logic.connectors.bling import BlingOrderTarget
from functions.sync.logic.orders import OrderBusy, OrderRefused, OrderWriter
from functions.sync.models.orders import OrderSyncStatus
from tests.sync.conftest import lambda_context


def order(h, order_id: str = "ord-1") -> OrderPlaced:
    return OrderPlaced(
        tenant_id=h.tenant_id,
        correlation_id="corr",
        order_id=order_id,
        call_id="call-1",
        lines=[
            OrderLine(
                item_id="bling-1",
                name="Pizza",
                quantity=2,
                unit_price_cents=4550,
                line_total_cents=9100,
            )
        ],
        total_cents=9100,
        fulfilment="pickup",
    )


class FlakyRecords(DynamoOrderSyncRepository):
    """Loses the first 'synced' write: the crash between creating and recording."""

    def __init__(self, table_name):
        super().__init__(table_name)
        self.fail_next_synced = True

    def put(self, record):
        if record.status == OrderSyncStatus.SYNCED and self.fail_next_synced:
            self.fail_next_synced = False
            raise RuntimeError("worker died before recording")
        super().put(record)


def writer(h, records=None, contact="777"):
    return OrderWriter(
        records=records or DynamoOrderSyncRepository(h.main),
        catalog=h.catalog,
        lock_for=lambda tenant_id: DynamoLock(h.main, tenant_id),
        target_for=lambda tenant_id: BlingOrderTarget(h.api(), contact_id=contact),
    )


def test_an_order_is_created_once_with_the_product_link(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    w = writer(h)

    first = w.write(order(h))
    again = w.write(order(h))  # duplicate delivery

    assert first.status == OrderSyncStatus.SYNCED
    assert again.external_id == first.external_id
    assert len(h.bling.orders) == 1
    created = h.bling.orders[int(first.external_id)]
    assert created["numeroLoja"] == "ord-1"
    assert created["itens"][0] == {
        "descricao": "Pizza",
        "quantidade": 2,
        "valor": 45.5,
        "produto": {"id": 1},
    }


def test_a_crash_after_creating_is_healed_by_the_search_on_retry(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    w = writer(h, records=FlakyRecords(h.main))

    with pytest.raises(RuntimeError):
        w.write(order(h))
    assert len(h.bling.orders) == 1
    retried = w.write(order(h))  # SQS redelivers

    assert retried.status == OrderSyncStatus.SYNCED
    assert len(h.bling.orders) == 1
    assert retried.external_id == str(next(iter(h.bling.orders)))


def test_retries_through_429s_still_create_once(harness):
    h = harness
    h.bling.add_product(1)
    h.sync("full")
    h.bling.storm = 5
    result = writer(h).write(order(h))
    assert result.status == OrderSyncStatus.SYNCED
    assert len(h.bling.orders) == 1


def test_a_concurrent_delivery_backs_off_while_the_lease_is_held(harness):
    h = harness
    lease = DynamoLock(h.main, h.tenant_id).acquire("order#ord-1", ttl_seconds=60)
    assert lease
    with pytest.raises(OrderBusy):
        writer(h).write(order(h))
    assert h.bling.orders == {}


def test_a_refused_order_is_recorded_as_failed_and_retried_until_the_dlq(harness):
    h = harness
    with pytest.raises(OrderRefused):
        writer(h, contact="1").write(order(h))  # unknown contact: Bling answers 400
    record = DynamoOrderSyncRepository(h.main).get(h.tenant_id, "ord-1")
    assert record is not None
    assert record.last_error is not None
    assert record.status == OrderSyncStatus.FAILED
    assert "contato" in record.last_error
    fixed = writer(h).write(order(h))  # replayed after the admin fixed the contact
    assert fixed.status == OrderSyncStatus.SYNCED
    assert len(h.bling.orders) == 1


def test_orders_handler_reports_only_the_failed_record(harness, monkeypatch):
    from functions.sync.handlers import deps as service
    from functions.sync.handlers import orders as handler_module

    h = harness
    h.bling.add_product(1)
    h.sync("full")
    service.use_http_transport(h.bling.transport)
    # The handler paces itself on the real clock; the fake counts on the virtual one.
    h.bling.per_second = 1_000
    monkeypatch.setenv("ATENDE_STAGE", "local")
    good = order(h, "ord-9")
    event = {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "r1",
                "body": json.dumps(
                    {
                        "detail-type": "OrderPlaced",
                        "source": "atende",
                        "detail": json.loads(good.model_dump_json()),
                    }
                ),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            },
            {
                "messageId": "m2",
                "receiptHandle": "r2",
                "body": json.dumps({"detail-type": "CallEnded", "detail": {}}),
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            },
        ]
    }
    answer = handler_module.handler(event, lambda_context())
    assert answer == {"batchItemFailures": [{"itemIdentifier": "m2"}]}
    assert [o["numeroLoja"] for o in h.bling.orders.values()] == ["ord-9"]
