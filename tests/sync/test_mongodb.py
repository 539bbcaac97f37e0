"""MongoDB hub: connector logic on mongomock and on a real wire-protocol server (FerretDB
built by ``atende_local/stand_ins/install.sh``, or ``MONGODB_URI``), full mirror,
``updated_at`` incremental, idempotent orders."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from atende_local.stand_ins.databases import Unavailable, start_ferretdb
from atende_shared.events import OrderLine, OrderPlaced
from functions.sync.logic.connectors.mongodb import (
    MongoCatalogConnector,
    MongoFields,
    MongoOrderTarget,
)
from functions.sync.logic.engine import CatalogEngine, EngineConfig
from functions.sync.models.runs import RunStatus, SyncMode, SyncRun
from tests.sync.conftest import CountingCatalog, RecordingPublisher, new_tenant
from tests.sync.fakes import VirtualClock

mongomock = pytest.importorskip("mongomock")  # a dev dependency; skip cleanly without it

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def mongodb_uri():
    """A real wire-protocol server: ``MONGODB_URI`` if set, else FerretDB started here."""
    if uri := os.environ.get("MONGODB_URI"):
        yield uri
        return
    try:
        server = start_ferretdb()
    except Unavailable as exc:
        pytest.skip(f"{exc}; or set MONGODB_URI to a MongoDB server")
    yield server.url
    server.stop()


@pytest.fixture(params=["mongomock", pytest.param("server", marks=pytest.mark.databases)])
def database(request):
    if request.param == "mongomock":
        yield mongomock.MongoClient()["catalog"]
        return
    uri = request.getfixturevalue("mongodb_uri")
    from pymongo import MongoClient

    client: MongoClient = MongoClient(uri, serverSelectionTimeoutMS=3_000)
    name = f"atende_test_{uuid.uuid4().hex[:8]}"
    yield client[name]
    client.drop_database(name)


def doc(i, **kw):
    base = {
        "_id": f"m{i:03d}",
        "sku": f"M-{i}",
        "name": f"Marmita {i}",
        "price": 19.9 + i,
        "stock": i % 3,
        "available": True,
        "updated_at": (T0 - timedelta(hours=1)).replace(tzinfo=None),
    }
    return {**base, **kw}


@pytest.fixture
def mongo(sync_aws, database):
    tenant = new_tenant(sync_aws)
    clock = VirtualClock(T0)
    catalog = CountingCatalog(sync_aws.tables["main"])
    from functions.sync.dal.dynamo import DynamoRunRepository

    engine = CatalogEngine(
        catalog=catalog,
        runs=DynamoRunRepository(sync_aws.tables["main"]),
        events=RecordingPublisher(),
        clock=clock.now,
        config=EngineConfig(mass_delete_min=3, mass_delete_pct=10),
    )
    connector = MongoCatalogConnector(database["products"], page_limit=10)
    return database, tenant, engine, connector, catalog, clock


def run(engine, tenant, connector, mode, clock):
    run_id = f"{mode}-{uuid.uuid4().hex[:6]}"
    engine.runs.create_run(
        SyncRun(tenant_id=tenant, run_id=run_id, source="mongodb", mode=SyncMode(mode))
    )
    engine.run_pull(tenant, run_id, connector)
    clock.advance(60)
    found = engine.runs.get_run(tenant, run_id)
    assert found is not None
    return found


def test_full_mirror_then_incremental_by_updated_at(mongo):
    db, tenant, engine, connector, catalog, clock = mongo
    db["products"].insert_many([doc(i) for i in range(25)] + [doc(99, price_cents=-5)])

    first = run(engine, tenant, connector, "full", clock)
    assert first.counts.created == 25
    assert first.counts.quarantined == 1

    inc = run(engine, tenant, connector, "incremental", clock)  # no cursor: the last day
    assert inc.counts.unchanged == 25
    db["products"].update_one(
        {"_id": "m004"},
        {
            "$set": {
                "price": 5.5,
                "updated_at": (clock.now() + timedelta(minutes=1)).replace(tzinfo=None),
            }
        },
    )
    clock.advance(3_600)
    again = run(engine, tenant, connector, "incremental", clock)
    assert again.counts.read == 1
    assert again.counts.updated == 1
    assert catalog.get_items(tenant, ["mongodb-m004"])["mongodb-m004"].item.price_cents == 550


def test_deleted_documents_are_never_live_and_the_guard_holds(mongo):
    db, tenant, engine, connector, _catalog, clock = mongo
    db["products"].insert_many([doc(i) for i in range(20)])
    run(engine, tenant, connector, "full", clock)
    db["products"].update_one({"_id": "m001"}, {"$set": {"deleted": True}})
    small = run(engine, tenant, connector, "full", clock)
    assert small.counts.deleted == 1
    db["products"].delete_many({})
    empty = run(engine, tenant, connector, "full", clock)
    assert empty.status == RunStatus.GUARDED


def test_field_names_are_configurable(mongo):
    db, tenant, engine, _, catalog, clock = mongo
    db["itens"].insert_one({"_id": "x", "codigo": "X-1", "titulo": "Bolo", "valor": 12.0})
    connector = MongoCatalogConnector(
        db["itens"],
        fields=MongoFields.from_mapping({"sku": "codigo", "name": "titulo", "price": "valor"}),
    )
    run(engine, tenant, connector, "full", clock)
    item = catalog.get_items(tenant, ["mongodb-x"])["mongodb-x"].item
    assert (item.sku, item.name, item.price_cents) == ("X-1", "Bolo", 1200)


def test_orders_are_written_once_even_when_deliveries_race(mongo):
    db, tenant, *_ = mongo
    target = MongoOrderTarget(db["orders"])
    order = OrderPlaced(
        tenant_id=tenant,
        correlation_id="c",
        order_id="o-1",
        call_id="call",
        lines=[
            OrderLine(
                item_id="mongodb-m001",
                name="Marmita",
                quantity=1,
                unit_price_cents=2090,
                line_total_cents=2090,
            )
        ],
        total_cents=2090,
        fulfilment="delivery",
        delivery_address="Rua A, 1",
    )
    first = target.create(order, {"mongodb-m001": "m001"})
    second = target.create(order, {})  # a racing delivery that missed the find()
    assert first == second == target.find("o-1")
    assert db["orders"].count_documents({}) == 1
