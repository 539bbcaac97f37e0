"""Billing: N call lifecycles through the calls consumer's logic at concurrency 8, on
in-process moto, 30% of the calls with every event duplicated and their order shuffled.

Checks that every tenant's final balance is exact (funding - sum of the rated calls,
computed independently with the pure rating function), that balance == sum(ledger), no
reservation is left and each call is charged once. Reports throughput as a ratio to the
bare DynamoDB transactions the same work needs (per call: the reservation transaction
and the posting transaction, same item shapes, same concurrency), measured in the same
run. Also counts the DynamoDB requests billing actually made per call.

Run: ``python -m bench.bench_billing``. ``BENCH_BILLING_CALLS`` (default 60) sets N; the
issue's 2,000 runs with ``BENCH_BILLING_CALLS=2000``. Machines are noisy and moto is not
AWS: only the ratio travels.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

CALLS = int(os.environ.get("BENCH_BILLING_CALLS", "60"))
CONCURRENCY = int(os.environ.get("BENCH_BILLING_CONCURRENCY", "8"))
TENANTS = int(os.environ.get("BENCH_BILLING_TENANTS", "25"))
ROUND = int(os.environ.get("BENCH_BILLING_ROUND", "30"))
DUPLICATED_SHARE = 0.30
FUNDING_CENTS = 10_000_000
SEED = 20261122


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


def _messages(
    rng: random.Random, tenants: list[str], calls: int, prefix: str
) -> tuple[list[str], dict[str, list[int]]]:
    """Every call's LiveKit envelopes, interleaved; and the call durations per tenant."""
    from tests.billing.builders import livekit_envelope, livekit_payload, room_for

    base = datetime.now(UTC) - timedelta(hours=2)
    streams: list[list[str]] = []
    durations: dict[str, list[int]] = defaultdict(list)
    for n in range(calls):
        tenant = tenants[n % len(tenants)]
        room = room_for(tenant, f"{prefix}c{n:05d}")
        joined = base + timedelta(seconds=rng.randint(0, 3_000))
        seconds = rng.randint(5, 600)
        durations[tenant].append(seconds)
        timeline = (
            ("room_started", joined - timedelta(seconds=1)),
            ("participant_joined", joined),
            ("participant_left", joined + timedelta(seconds=seconds)),
            ("room_finished", joined + timedelta(seconds=seconds + 3)),
        )
        bodies = [
            livekit_envelope(
                tenant,
                livekit_payload(
                    kind, room_name=room, at=at, event_id=f"{room}-{kind}", joined_at=joined
                ),
            ).model_dump_json()
            for kind, at in timeline
        ]
        if rng.random() < DUPLICATED_SHARE:
            bodies = bodies * 2
            rng.shuffle(bodies)
        streams.append(bodies)
    # Interleave the calls: each call keeps its own (possibly shuffled) order.
    merged: list[str] = []
    cursors = [0] * len(streams)
    live = list(range(len(streams)))
    while live:
        i = rng.choice(live)
        merged.append(streams[i][cursors[i]])
        cursors[i] += 1
        if cursors[i] == len(streams[i]):
            live.remove(i)
    return merged, durations


def _run_pool(work: list[Any], fn: Any) -> float:
    """Run ``fn`` over ``work`` with CONCURRENCY threads; failed items are retried (as SQS
    redelivers). Returns the wall time."""
    queue = list(work)
    lock = threading.Lock()

    def worker() -> None:
        while True:
            with lock:
                if not queue:
                    return
                item = queue.pop(0)
            try:
                fn(item)
            except Exception:
                with lock:
                    queue.append(item)

    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        for future in [pool.submit(worker) for _ in range(CONCURRENCY)]:
            future.result()
    return time.perf_counter() - started


def _item_shapes(table_name: str) -> dict[str, dict[str, Any]]:
    """One real item of each kind billing wrote (a rated session, a ledger entry, an
    idempotency item, a balance): the baseline writes exactly these shapes."""
    from boto3.dynamodb.conditions import Key

    from atende_shared.aws import resource

    table = resource("dynamodb").Table(table_name)
    shapes: dict[str, dict[str, Any]] = {}
    for item in table.scan()["Items"]:
        shapes.setdefault(str(item.get("entity")), dict(item))
    pk = shapes["balance"]["PK"]
    for item in table.query(KeyConditionExpression=Key("PK").eq(pk))["Items"]:
        shapes.setdefault(str(item.get("entity")), dict(item))
    return shapes


def _bare_transactions(
    table_name: str, tenants: list[str], calls: int, shapes: dict[str, dict[str, Any]] | None
) -> float:
    """Per call, the two transactions billing cannot do without, with no reads, no logic:
    reserve (balance + session) and post (balance + ledger entry + idempotency + session),
    writing items of the shapes billing writes, on a table seeded as billing's was (moto
    copies the whole table on every transaction item, so both sides must pay for the same
    table)."""
    from atende_shared.aws import resource

    ddb = resource("dynamodb").Table(table_name).meta.client
    session, entry = (shapes["call_session"], shapes["ledger_entry"]) if shapes else ({}, {})

    def call(n: int) -> None:
        pk = f"TENANT#{tenants[n % len(tenants)]}" + ("" if shapes else "-bare")
        sk_call = f"CALL#bare{n:05d}"
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": {"PK": pk, "SK": "BALANCE"},
                        "UpdateExpression": "ADD reserved_cents :h, version :one",
                        "ExpressionAttributeValues": {":h": 450, ":one": 1},
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {**session, "PK": pk, "SK": sk_call, "status": "open"},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
            ]
        )
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table_name,
                        "Key": {"PK": pk, "SK": "BALANCE"},
                        "UpdateExpression": "ADD reserved_cents :h, balance_cents :a, version :one",
                        "ExpressionAttributeValues": {":h": -450, ":a": -300, ":one": 1},
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {**entry, "PK": pk, "SK": f"LEDGER#bare{n:010d}"},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {"PK": pk, "SK": f"APPLIED#call:bare{n}", "entity": "applied"},
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {
                    "Put": {
                        "TableName": table_name,
                        "Item": {**session, "PK": pk, "SK": sk_call, "status": "rated"},
                    }
                },
            ]
        )

    return _run_pool(list(range(calls)), call)


def main() -> None:
    _environment()
    import warnings

    warnings.filterwarnings("ignore")
    from moto import mock_aws

    from atende_local.bootstrap import _create_table
    from atende_shared.aws import client, reset_clients, resource
    from atende_shared.dal.tenants import DynamoTenantStore
    from atende_shared.models.tenant import BillingPlan, Tenant
    from atende_shared.resources import Table
    from atende_shared.settings import reset_settings_cache
    from functions.billing.dal.dynamo import DynamoBillingStore
    from functions.billing.logic.credits import credit
    from functions.billing.logic.engine import BillingDeps
    from functions.billing.logic.jobs import reconcile
    from functions.billing.logic.messages import process_calls_message
    from functions.billing.logic.rating import rate_call
    from functions.billing.models.session import SessionStatus
    from functions.wiring import TABLES
    from tests.billing.fakes import FakePublisher
    from tests.moto_support import serialised_moto_requests

    rng = random.Random(SEED)
    plan = BillingPlan(
        price_per_minute_cents=90, rounding="per_second", minimum_billable_seconds=10
    )
    tenant_ids = [f"bench-{i:03d}" for i in range(TENANTS)]
    main_spec = next(t for t in TABLES if t.name is Table.MAIN)
    requests: Counter[str] = Counter()
    problems: list[str] = []
    billing_seconds = bare_seconds = minimal_seconds = 0.0
    messages = mismatches = 0
    rounds = (CALLS + ROUND - 1) // ROUND
    started = time.perf_counter()

    def seed(table_name: str) -> Any:
        """A main table with the bench's tenants, each funded; the billing deps on it."""
        _create_table(main_spec, table_name)
        tenants = DynamoTenantStore(table_name)
        for tenant_id in tenant_ids:
            tenants.put_tenant(Tenant(tenant_id=tenant_id, name=tenant_id, plan=plan))
        deps = BillingDeps(
            store=DynamoBillingStore(table_name),
            tenants=tenants,
            publisher=FakePublisher(),  # EventBridge is not what is measured here
            max_commit_attempts=200,
            tenant_cache_seconds=30.0,  # what the deployed consumer uses
        )
        for tenant_id in tenant_ids:
            credit(tenant_id, FUNDING_CENTS, "bench funding", "bench", "funding", deps=deps)
        return deps

    with mock_aws(), serialised_moto_requests():
        reset_clients()
        reset_settings_cache()
        for number in range(rounds):
            calls = min(ROUND, CALLS - number * ROUND)
            # A fresh table per round: moto deep-copies the whole table on every
            # transaction (its rollback), which real DynamoDB does not; bounded rounds keep
            # that emulator cost equal for billing and the baseline.
            table_name = f"bench-main-{number}"
            deps = seed(table_name)
            bodies, durations = _messages(rng, tenant_ids, calls, prefix=f"r{number}")
            messages += len(bodies)
            ddb = resource("dynamodb").meta.client

            def count(event_name: str, **_: Any) -> None:
                requests[event_name.rsplit(".", 1)[-1]] += 1

            ddb.meta.events.register("before-call.dynamodb", count)
            billing_seconds += _run_pool(
                bodies, lambda body, deps=deps: process_calls_message(deps, body)
            )
            ddb.meta.events.unregister("before-call.dynamodb", count)
            problems.extend(_verify(deps, plan, tenant_ids, durations, rate_call, SessionStatus))
            mismatches += len(reconcile(deps).mismatches)
            shapes = _item_shapes(table_name)
            client("dynamodb").delete_table(TableName=table_name)
            # The baseline: the same seeded table, the same item shapes.
            bare_table = f"bench-bare-{number}"
            seed(bare_table)
            bare_seconds += _bare_transactions(bare_table, tenant_ids, calls, shapes)
            client("dynamodb").delete_table(TableName=bare_table)
            # The earlier baseline (kept for comparison): an empty table, minimal items.
            bare_table = f"bench-minimal-{number}"
            _create_table(main_spec, bare_table)
            minimal_seconds += _bare_transactions(bare_table, tenant_ids, calls, None)
            client("dynamodb").delete_table(TableName=bare_table)
    reset_clients()

    duplicated = messages - 4 * CALLS
    print(
        f"billing: {CALLS} call lifecycles, {messages} LiveKit messages "
        f"({duplicated} duplicates; ~{DUPLICATED_SHARE:.0%} of calls duplicated+shuffled), "
        f"{TENANTS} tenants, concurrency {CONCURRENCY}, in-process moto, {rounds} rounds"
    )
    print(
        f"  final balances exact: {'yes' if not problems else 'NO'}; "
        f"reconciliation mismatches: {mismatches}"
    )
    for problem in problems[:10]:
        print(f"    {problem}")
    per_call = ", ".join(f"{k} {v / CALLS:.1f}" for k, v in sorted(requests.items()))
    print(f"  DynamoDB requests per call (billing): {per_call}")
    print(
        f"  billing consumer logic: {billing_seconds:7.2f} s {CALLS / billing_seconds:8.1f} calls/s"
    )
    print(
        f"  bare transactions     : {bare_seconds:7.2f} s "
        f"{CALLS / bare_seconds:8.1f} calls/s  (2 TransactWriteItems per call, billing's "
        "item shapes, table seeded as billing's)"
    )
    print(
        f"  ratio: billing throughput is {bare_seconds / billing_seconds:.2f} of the bare "
        f"transactions' (billing takes x{billing_seconds / bare_seconds:.2f} the time)"
    )
    print(
        f"  (earlier baseline, minimal items on an empty table: {minimal_seconds:.2f} s, "
        f"ratio {minimal_seconds / billing_seconds:.2f})"
    )
    print(f"  (bench took {time.perf_counter() - started:.1f} s)")
    if problems or mismatches:
        raise SystemExit("billing bench: balances are not exact")


def _verify(
    deps: Any,
    plan: Any,
    tenant_ids: list[str],
    durations: dict[str, list[int]],
    rate_call: Any,
    status: Any,
) -> list[str]:
    """Exact balances, no reservation left, one charge per call, every call rated."""
    problems: list[str] = []
    for tenant_id in tenant_ids:
        expected = FUNDING_CENTS - sum(
            rate_call(plan, duration=d).amount_cents for d in durations[tenant_id]
        )
        balance = deps.store.get_balance(tenant_id)
        entries = list(deps.store.iter_ledger(tenant_id))
        charges = Counter(e.business_id for e in entries if e.business_id.startswith("call:"))
        calls = deps.store.list_calls(tenant_id, limit=1_000).items
        if balance.balance_cents != expected:
            problems.append(f"{tenant_id}: balance {balance.balance_cents} != {expected}")
        if balance.reserved_cents != 0:
            problems.append(f"{tenant_id}: {balance.reserved_cents} still reserved")
        if len(charges) != len(durations[tenant_id]) or any(n != 1 for n in charges.values()):
            problems.append(
                f"{tenant_id}: {len(charges)} charges, {len(durations[tenant_id])} calls"
            )
        if any(c.status is not status.RATED for c in calls):
            problems.append(f"{tenant_id}: a call is not rated")
    return problems


if __name__ == "__main__":
    main()
