"""Plugg.to: id-only notifications re-read the product; token expiry; full sync."""

from __future__ import annotations

import httpx
import pytest

from atende_shared.dal.tenants import tenant_store
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.models.tenant import CatalogSource
from functions.sync.dal.aws_io import S3BlobStore, SqsJobQueue
from functions.sync.dal.dynamo import DynamoRunRepository, ingest_ledger
from functions.sync.logic.connectors.pluggto import PluggtoApi, PluggtoConnector
from functions.sync.logic.engine import CatalogEngine
from functions.sync.logic.worker import CatalogWorker
from functions.sync.models.runs import RunStatus, SyncMode, SyncRun
from tests.sync.conftest import CountingCatalog, RecordingPublisher, new_tenant
from tests.sync.fakes import FakePluggto, VirtualClock


@pytest.fixture
def pg(sync_aws):
    clock = VirtualClock()
    fake = FakePluggto(clock)
    tenant = new_tenant(sync_aws, CatalogSource.PLUGGTO)
    main = sync_aws.tables["main"]
    api = PluggtoApi(
        http=httpx.Client(base_url="https://api.plugg.to", transport=fake.transport),
        credentials={
            "client_id": fake.client_id,
            "client_secret": fake.client_secret,
            "username": fake.username,
            "password": fake.password,
        },
        clock=clock.time,
        sleep=clock.sleep,
    )
    connector = PluggtoConnector(api, page_limit=10)
    catalog = CountingCatalog(main)
    engine = CatalogEngine(
        catalog=catalog,
        runs=DynamoRunRepository(main),
        events=RecordingPublisher(),
        clock=clock.now,
    )
    worker = CatalogWorker(
        engine=engine,
        connector_for=lambda t, s: connector,
        reader_for=lambda t, s: connector,
        blobs=S3BlobStore(sync_aws.buckets["artifacts"]),
        ledger=ingest_ledger(main),
        jobs=SqsJobQueue(sync_aws.queues["catalog"].url),
    )
    return fake, tenant, worker, catalog, sync_aws


def notify(fake, tenant, pid, event_id="n1", action="updated"):
    return InboundEvent(
        tenant_id=tenant,
        provider=Provider.PLUGGTO,
        provider_event_id=event_id,
        type="products",
        occurred_at=fake.clock.now(),
        correlation_id="c",
        payload=fake.notification(pid, action),
    ).model_dump_json()


def menu(aws, tenant):
    return tenant_store(aws.tables["main"]).get_menu(tenant).by_id()


def test_a_notification_re_reads_the_product(pg):
    fake, tenant, worker, _catalog, aws = pg
    fake.add_product(
        "p1",
        price=31.9,
        special_price=29.9,
        quantity=0,
        variations=[{"sku": "p1-g", "name": "Grande", "price": 39.9, "quantity": 2}],
    )

    assert worker.handle(notify(fake, tenant, "p1")) == "applied"

    item = menu(aws, tenant)["pluggto-p1"]
    assert item.price_cents == 2990  # the special price wins
    assert item.stock == 0
    assert [(o.option_id, o.price_cents) for o in item.options] == [("p1-g", 3990)]
    assert fake.log == [("GET", "/products/p1")]


def test_duplicate_notifications_write_once_and_a_vanished_product_is_hidden(pg):
    fake, tenant, worker, catalog, aws = pg
    fake.add_product("p1")
    worker.handle(notify(fake, tenant, "p1"))
    worker.handle(notify(fake, tenant, "p1"))
    assert catalog.items_written == 1
    del fake.products["p1"]
    worker.handle(notify(fake, tenant, "p1", event_id="n2"))
    assert not menu(aws, tenant)["pluggto-p1"].available


def test_an_expired_token_is_renewed(pg):
    fake, tenant, worker, _catalog, aws = pg
    fake.add_product("p1")
    fake.add_product("p2")
    worker.handle(notify(fake, tenant, "p1"))
    fake.expire_tokens()
    worker.handle(notify(fake, tenant, "p2", event_id="n2"))
    assert fake.tokens_issued == 2
    assert "pluggto-p2" in menu(aws, tenant)


def test_429s_back_off_and_orders_are_ignored(pg):
    fake, tenant, worker, _catalog, aws = pg
    fake.add_product("p1")
    fake.storm = 3
    worker.handle(notify(fake, tenant, "p1"))
    assert fake.clock.slept > 0
    assert "pluggto-p1" in menu(aws, tenant)
    order = InboundEvent(
        tenant_id=tenant,
        provider=Provider.PLUGGTO,
        provider_event_id="o1",
        type="orders",
        occurred_at=fake.clock.now(),
        correlation_id="c",
        payload={"type": "orders", "id": "o1", "action": "created", "user": 1, "changes": {}},
    ).model_dump_json()
    assert worker.handle(order) == "ignored"


def test_a_full_sync_pages_through_the_listing(pg):
    fake, tenant, worker, _catalog, _aws = pg
    for i in range(25):
        fake.add_product(f"p{i:02d}")
    runs = worker.engine.runs
    runs.create_run(
        SyncRun(tenant_id=tenant, run_id="pg-full-1", source="pluggto", mode=SyncMode.FULL)
    )
    worker.engine.run_pull(tenant, "pg-full-1", worker.connector_for(tenant, "pluggto"))
    run = runs.get_run(tenant, "pg-full-1")
    assert run is not None
    assert run.status == RunStatus.SUCCEEDED
    assert run.counts.created == 25
    assert run.pages_read == 3
