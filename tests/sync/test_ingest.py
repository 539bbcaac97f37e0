"""Push ingestion: the endpoint (auth, size, batch dedupe), the workers, complete + sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest

from atende_shared.dal.tenants import tenant_store
from atende_shared.models.tenant import CatalogSource
from atende_shared.settings import reset_settings_cache
from atende_shared.tenant_secrets import IntegrationSecret, write_secret
from tests.sync.bridge import call, drain_catalog, empty_queue
from tests.sync.conftest import new_tenant

TOKEN = "ingest-token-1"


@pytest.fixture
def tenant(sync_aws):
    reset_settings_cache()  # a previous test may have changed a limit
    tenant_id = new_tenant(sync_aws, CatalogSource.PUSH)
    write_secret("local", tenant_id, "ingest", IntegrationSecret(current={"token": TOKEN}))
    empty_queue(sync_aws.queues["catalog"].url)
    return tenant_id


def auth(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def rows(ids, price=10.0):
    return [{"source_id": str(i), "name": f"Item {i}", "price": price, "stock": i} for i in ids]


def push(tenant, snapshot, batch, records, token=TOKEN):
    return call(
        "POST",
        f"/v1/ingest/{tenant}/catalog",
        {"snapshot_id": snapshot, "batch_id": batch, "records": records},
        auth(token),
    )


def complete(tenant, snapshot, count):
    return call(
        "POST",
        f"/v1/ingest/{tenant}/catalog/complete",
        {"snapshot_id": snapshot, "batch_count": count},
        auth(),
    )


def menu(sync_aws, tenant):
    return tenant_store(sync_aws.tables["main"]).get_menu(tenant).by_id()


def test_batches_are_queued_then_applied_and_a_resent_batch_counts_once(sync_aws, tenant):
    status, body = push(tenant, "s1", "b1", rows(range(1, 11)))
    assert status == 202
    assert body["status"] == "accepted"
    assert menu(sync_aws, tenant) == {}  # the endpoint answers before anything is applied

    status, body = push(tenant, "s1", "b1", rows(range(1, 11)))
    assert status == 200
    assert body["status"] == "duplicate"

    answers = drain_catalog(sync_aws.queues["catalog"].url)
    assert len(answers) == 1  # the duplicate was never queued
    items = menu(sync_aws, tenant)
    assert len(items) == 10
    assert items["push-3"].stock == 3
    assert items["push-3"].price_cents == 1000


def test_the_ingest_token_is_required(sync_aws, tenant):
    assert push(tenant, "s1", "b1", rows([1]), token="wrong")[0] == 401
    status, body = call(
        "POST",
        f"/v1/ingest/{tenant}/catalog",
        {"snapshot_id": "s1", "batch_id": "b1", "records": []},
    )
    assert status == 401
    assert "token" not in str(body).lower().replace("unauthorized", "")


def test_a_non_ascii_token_is_refused_not_an_error(sync_aws, tenant):
    # str compare_digest raises TypeError on non-ASCII: that must be a 401, never a 500.
    assert push(tenant, "s1", "b1", rows([1]), token="ingest-tokén-1")[0] == 401
    assert push(tenant, "s1", "b1", rows([1]), token=TOKEN + "é")[0] == 401


def test_a_rotated_token_keeps_working_during_its_grace_window(sync_aws, tenant):
    secret = IntegrationSecret(current={"token": TOKEN}).rotated(
        {"token": "new-token"}, grace=timedelta(hours=1)
    )
    write_secret("local", tenant, "ingest", secret)
    assert push(tenant, "s1", "b1", rows([1]), token="new-token")[0] == 202
    assert push(tenant, "s1", "b2", rows([2]), token=TOKEN)[0] == 202


def test_oversized_batches_and_bad_records_are_refused(sync_aws, tenant, monkeypatch):
    monkeypatch.setenv("ATENDE_INGEST_MAX_RECORDS", "5")
    reset_settings_cache()
    assert push(tenant, "s1", "b1", rows(range(6)))[0] == 413
    assert push(tenant, "s1", "b2", [{"name": "no id"}])[0] == 422
    assert call("POST", f"/v1/ingest/{tenant}/catalog", "{not json", auth())[0] == 400
    monkeypatch.undo()
    reset_settings_cache()


def test_complete_sweeps_rows_missing_from_the_snapshot(sync_aws, tenant):
    push(tenant, "s1", "b1", rows(range(1, 31)))
    complete(tenant, "s1", 1)
    drain_catalog(sync_aws.queues["catalog"].url)

    # The next snapshot lacks row 7 and has one invalid row.
    push(tenant, "s2", "b1", rows([i for i in range(1, 16) if i != 7]))
    push(tenant, "s2", "b2", [*rows(range(16, 31)), {"source_id": "bad", "name": "x", "price": -1}])
    status, body = complete(tenant, "s2", 2)
    assert status == 202
    assert body["run_id"] == "push-catalog-s2"
    drain_catalog(sync_aws.queues["catalog"].url)

    items = menu(sync_aws, tenant)
    assert not items["push-7"].available
    assert items["push-8"].available
    status, run = call("GET", f"/v1/tenants/{tenant}/sync-runs/push-catalog-s2")
    assert status == 200
    assert run["status"] == "succeeded"
    assert run["counts"]["deleted"] == 1
    assert run["counts"]["quarantined"] == 1
    assert run["quarantine"][0]["reason"].startswith("negative price")


def test_complete_never_sweeps_a_snapshot_with_a_missing_batch(sync_aws, tenant):
    # Given a first snapshot, then a second whose "complete" claims a batch never applied
    push(tenant, "s1", "b1", rows(range(1, 11)))
    complete(tenant, "s1", 1)
    drain_catalog(sync_aws.queues["catalog"].url)
    push(tenant, "s2", "b1", rows(range(1, 4)))
    complete(tenant, "s2", 2)

    answers = drain_catalog(sync_aws.queues["catalog"].url)

    # Then complete fails (retried, then the DLQ) and nothing is swept
    assert answers[-1]["batchItemFailures"]
    _, run = call("GET", f"/v1/tenants/{tenant}/sync-runs/push-catalog-s2")
    assert run["status"] == "running"
    assert run["counts"]["deleted"] == 0
    assert sum(i.available for i in menu(sync_aws, tenant).values()) == 10
    empty_queue(sync_aws.queues["catalog"].url)


def test_the_guard_protects_a_pushed_catalog(sync_aws, tenant):
    push(tenant, "s1", "b1", rows(range(1, 101)))
    complete(tenant, "s1", 1)
    drain_catalog(sync_aws.queues["catalog"].url)
    push(tenant, "s2", "b1", rows(range(1, 41)))
    complete(tenant, "s2", 1)
    drain_catalog(sync_aws.queues["catalog"].url)
    _, run = call("GET", f"/v1/tenants/{tenant}/sync-runs/push-catalog-s2")
    assert run["status"] == "guarded"
    assert run["guard"]["would_delete"] == 60
    assert sum(i.available for i in menu(sync_aws, tenant).values()) == 100


def test_a_stock_stream_updates_stock_only(sync_aws, tenant):
    push(tenant, "s1", "b1", rows(range(1, 4)))
    drain_catalog(sync_aws.queues["catalog"].url)
    status, _ = call(
        "POST",
        f"/v1/ingest/{tenant}/stock",
        {"snapshot_id": "k1", "batch_id": "b1", "records": [{"source_id": "2", "stock": 0}]},
        auth(),
    )
    assert status == 202
    drain_catalog(sync_aws.queues["catalog"].url)
    items = menu(sync_aws, tenant)
    assert items["push-2"].stock == 0
    assert not items["push-2"].sellable
    assert items["push-3"].stock == 3


def test_without_the_token_nothing_of_the_body_is_read(sync_aws, tenant, monkeypatch):
    # Given a small cap, so "oversized" is cheap to send
    monkeypatch.setenv("ATENDE_INGEST_MAX_BODY_BYTES", "2048")
    reset_settings_cache()
    deep = "[" * 1_000 + "]" * 1_000
    for body in ({"snapshot_id": 1, "records": "x"}, "x" * 4_096, deep):
        # When a caller without the token sends an invalid, oversized or hostile body
        status, answer = call("POST", f"/v1/ingest/{tenant}/catalog", body)
        # Then all it learns is 401: no field-level details, no size, no parse error
        assert status == 401
        assert "details" not in answer["error"]
        assert answer["correlation_id"]
    # And with the token: the size is capped before parsing, hostile JSON is a 400
    assert call("POST", f"/v1/ingest/{tenant}/catalog", "x" * 4_096, auth())[0] == 413
    assert call("POST", f"/v1/ingest/{tenant}/catalog", deep, auth())[0] == 400
    monkeypatch.undo()
    reset_settings_cache()
