"""Orders: what creating an order costs in DynamoDB requests, and listing a tenant's
newest 50 orders out of 100,000 as a ratio to the bare index query, on in-process moto.

1. ``place_order`` for N orders (half numbered by the channel, half numbered here), then
   each delivered again: DynamoDB requests per creation and per duplicate, by operation.
2. One tenant with ``BENCH_ORDERS_SEED`` orders (default 100,000), seeded straight into
   moto's table (see ``_seeder``); then ``list_orders(limit=50)`` (the API's unfiltered
   first page) against the bare ``Query`` on GSI2 it needs (same key condition,
   descending, ``Limit=50``), alternated, ``BENCH_ORDERS_REPEATS`` times each. moto scans a
   whole index per query (DynamoDB reads only the page): the absolute times are moto's;
   the ratio and the request count (one ``Query``) are what travel.

Run: ``python -m bench.bench_orders`` (or ``python -m bench orders``).
"""

from __future__ import annotations

import os
import statistics
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

CREATE = int(os.environ.get("BENCH_ORDERS_CREATE", "50"))
SEEDED = int(os.environ.get("BENCH_ORDERS_SEED", "100000"))
REPEATS = int(os.environ.get("BENCH_ORDERS_REPEATS", "5"))
TENANT = "bench-pizzaria"
BIG_TENANT = "bench-busy"  # the one with SEEDED orders


def _environment() -> None:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
        }
    )
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        os.environ.pop(var, None)


def _seeder(table_name: str) -> Any:
    """Put items straight into moto's table. Through boto3 (``batch_writer``) moto spends
    ~5 ms per item parsing and copying, so 100,000 would take ~10 minutes; its own
    ``put_item`` takes ~1 ms. Only the seeding bypasses the API: everything measured goes
    through boto3 as in Lambda."""
    from boto3.dynamodb.types import TypeSerializer
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    backend = dynamodb_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
    serialise = TypeSerializer().serialize

    def put(item: dict[str, Any]) -> None:
        backend.put_item(table_name, {k: serialise(v) for k, v in item.items()})

    return put


def main() -> None:
    _environment()
    from boto3.dynamodb.conditions import Key
    from moto import mock_aws

    from atende_local.bootstrap import create_resources
    from atende_shared.aws import reset_clients, resource
    from atende_shared.dal import keys
    from atende_shared.dal.dynamo import table, to_item
    from atende_shared.dal.opt_outs import opt_out_store
    from atende_shared.dal.order_numbers import order_numbers
    from atende_shared.dal.tenants import tenant_store
    from atende_shared.models.tenant import Tenant
    from atende_shared.settings import reset_settings_cache
    from functions.orders.dal.dynamo import DynamoOrderStore, iso, order_sk, orders_index_pk
    from functions.orders.dal.protocol import OrderFilter
    from functions.orders.logic.intake import place_order
    from functions.orders.logic.ports import OrdersDeps
    from functions.orders.models.order import Order
    from tests.orders.conftest import FakeBus, FakeJobs, FakePoster, FakeSender, placed

    with mock_aws():
        reset_clients()
        reset_settings_cache()
        made = create_resources(prefix="bench")
        main_table = made.tables["main"]
        tenants = tenant_store(main_table)
        tenants.create_tenant(Tenant(tenant_id=TENANT, name="Bench"))
        tenants.create_tenant(Tenant(tenant_id=BIG_TENANT, name="Busy"))
        sender = FakeSender()
        store = DynamoOrderStore(main_table)
        deps = OrdersDeps(
            store=store,
            numbers=order_numbers(main_table),
            tenants=tenants,
            publisher=FakeBus(),  # EventBridge is not what is measured
            opt_outs=opt_out_store(main_table),
            jobs=FakeJobs(),
            poster=FakePoster(),
            sender_for=lambda _t: sender,
            resolve=lambda host: ["93.184.216.34"],
            tenant_cache_seconds=30.0,  # what the deployed consumer uses
        )
        client = resource("dynamodb").meta.client
        counts: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            counts[event_name.rsplit(".", 1)[-1]] += 1

        # -- 1. creation cost --------------------------------------------------------
        deps.tenant(TENANT)  # a warm consumer has the tenant cached
        events = [
            placed(f"ord-{n}", number=(10_000 + n) if n % 2 else None).model_copy(
                update={"tenant_id": TENANT}
            )
            for n in range(CREATE)
        ]
        client.meta.events.register("before-call.dynamodb", count)
        started = time.perf_counter()
        for event in events:
            place_order(deps, event)
        print(f"  {CREATE} creations in {time.perf_counter() - started:.1f} s (moto)")
        created = dict(counts)
        counts.clear()
        for event in events:
            place_order(deps, event)
        duplicates = dict(counts)
        counts.clear()
        client.meta.events.unregister("before-call.dynamodb", count)

        def per(c: dict[str, int]) -> str:
            total = sum(c.values()) / CREATE
            detail = ", ".join(f"{k} {v / CREATE:.2f}" for k, v in sorted(c.items()))
            return f"{total:.2f} ({detail})"

        print(f"  orders created: {CREATE} (half numbered by the channel)")
        print(f"  DynamoDB requests per order creation: {per(created)}")
        print(f"  DynamoDB requests per duplicate delivery: {per(duplicates)}")

        # -- 2. newest 50 of SEEDED ------------------------------------------------------
        template = Order.from_event(events[0], number=1).model_dump(mode="json")
        base = datetime(2026, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        seed = _seeder(main_table)
        for n in range(SEEDED):
            order_id = f"seed-{n:06d}"
            at = base + timedelta(minutes=n)
            item = to_item(
                {
                    **template,
                    "tenant_id": BIG_TENANT,
                    "order_id": order_id,
                    "order_number": 100_000 + n,
                    "placed_at": at.isoformat(),
                }
            )
            item.update(
                {
                    keys.PK: keys.tenant_pk(BIG_TENANT),
                    keys.SK: order_sk(order_id),
                    keys.GSI2_PK: orders_index_pk(BIG_TENANT),
                    keys.GSI2_SK: f"{iso(at)}#{order_id}",
                }
            )
            seed(item)
        print(f"  seeded {SEEDED:,} orders for one tenant in {time.perf_counter() - started:.1f} s")

        def bare() -> list[dict[str, Any]]:
            answer = table(main_table).query(
                IndexName=keys.GSI2,
                KeyConditionExpression=Key(keys.GSI2_PK).eq(orders_index_pk(BIG_TENANT)),
                ScanIndexForward=False,
                Limit=50,
            )
            return list(answer["Items"])

        def listed() -> list[Order]:
            return store.list_orders(BIG_TENANT, OrderFilter(), limit=50, after=None).items

        newest = listed()
        assert len(newest) == 50
        assert newest[0].order_id == f"seed-{SEEDED - 1:06d}", newest[0].order_id
        assert [o.order_id for o in newest] == [i["order_id"] for i in bare()]
        client.meta.events.register("before-call.dynamodb", count)
        listed()
        client.meta.events.unregister("before-call.dynamodb", count)
        print(f"  DynamoDB requests for the newest 50: {sum(counts.values())} ({dict(counts)})")

        bare_times, list_times = [], []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            bare()
            bare_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            listed()
            list_times.append(time.perf_counter() - t0)
        b, lst = statistics.median(bare_times), statistics.median(list_times)
        print(
            f"  newest 50 of {SEEDED:,}: list_orders {lst * 1000:.0f} ms vs bare query "
            f"{b * 1000:.0f} ms (median of {REPEATS}) -> ratio {lst / b:.2f}"
        )
        reset_clients()


if __name__ == "__main__":
    main()
