"""The sync handlers as Lambda sees them: admin API, catalog consumer, scheduler, messages."""

from __future__ import annotations

import json

import pytest

from atende_shared.aws import client
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.models.tenant import CatalogSource
from functions.sync.handlers import deps as service
from functions.sync.models.runs import SyncJob
from tests.sync.bridge import call, drain_catalog, empty_queue
from tests.sync.conftest import lambda_context, new_tenant


def queued_jobs(url):
    sqs = client("sqs")
    got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0)
    return [json.loads(m["Body"]) for m in got.get("Messages", [])]


def test_admin_starts_a_run_and_the_worker_executes_it(harness):
    h = harness
    url = h.aws.queues["catalog"].url
    empty_queue(url)
    service.use_http_transport(h.bling.transport)
    h.bling.per_second = 1_000  # the handler paces on the real clock
    for pid in range(1, 6):
        h.bling.add_product(pid)
    h.bling.touch(3, preco=-5)

    status, run = call("POST", f"/v1/tenants/{h.tenant_id}/sync-runs", {"mode": "full"})
    assert status == 202
    assert run["status"] == "queued"
    assert run["source"] == "bling"
    [job] = queued_jobs(url)
    assert SyncJob.model_validate(job).run_id == run["run_id"]

    drain_catalog(url)

    status, done = call("GET", f"/v1/tenants/{h.tenant_id}/sync-runs/{run['run_id']}")
    assert status == 200
    assert done["status"] == "succeeded"
    assert done["counts"] == {
        "read": 5,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "deleted": 0,
        "quarantined": 1,
    }
    assert done["quarantine"] == [
        {"record_key": "3", "reason": "negative price: -5", "raw": done["quarantine"][0]["raw"]}
    ]
    assert done["duration_seconds"] >= 0
    status, listing = call("GET", f"/v1/tenants/{h.tenant_id}/sync-runs")
    assert [r["run_id"] for r in listing["items"]] == [run["run_id"]]


def test_admin_api_errors(harness, sync_aws):
    h = harness
    assert call("GET", f"/v1/tenants/{h.tenant_id}/sync-runs/nope")[0] == 404
    # A malformed tenant id fails the path pattern, as on every admin API
    assert call("GET", "/v1/tenants/NOT_A_SLUG/sync-runs/x")[0] == 422
    assert call("POST", f"/v1/tenants/{h.tenant_id}/sync-runs", {"mode": "sideways"})[0] == 422
    manual = new_tenant(sync_aws, CatalogSource.MANUAL)
    status, body = call("POST", f"/v1/tenants/{manual}/sync-runs", {"mode": "full"})
    assert status == 422
    assert "pull" in body["error"]["message"]
    assert call("GET", f"/v1/tenants/{h.tenant_id}/orders/o-1/sync")[0] == 404


def test_catalog_consumer_reports_a_malformed_message_as_a_failure(harness):
    from functions.sync.handlers.catalog import handler

    event = {
        "Records": [
            {
                "messageId": "m1",
                "receiptHandle": "r",
                "body": "not json",
                "attributes": {"MessageGroupId": "g", "ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
        ]
    }
    assert handler(event, lambda_context()) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_catalog_consumer_applies_a_bling_webhook_from_ingress(harness):
    h = harness
    url = h.aws.queues["catalog"].url
    empty_queue(url)
    service.use_http_transport(h.bling.transport)
    h.bling.per_second = 1_000
    h.bling.add_product(8, nome="Refri", preco=6.0, stock=0)
    body = h.bling.webhook("product.created", {"id": 8})
    envelope = InboundEvent(
        tenant_id=h.tenant_id,
        provider=Provider.BLING,
        provider_event_id=body["eventId"],
        type="product.created",
        occurred_at=h.clock.now(),
        correlation_id="c-1",
        payload=body,
    )
    client("sqs").send_message(
        QueueUrl=url,
        MessageBody=envelope.model_dump_json(),
        MessageGroupId=h.tenant_id,
        MessageDeduplicationId=body["eventId"],
    )
    [answer] = drain_catalog(url)
    assert answer == {"batchItemFailures": []}
    item = h.menu().by_id()["bling-8"]
    assert item.price_cents == 600
    assert not item.sellable


def test_scheduler_fans_out_one_job_per_pull_tenant(harness, sync_aws):
    from functions.sync.handlers.scheduler import handler

    url = sync_aws.queues["catalog"].url
    empty_queue(url)
    new_tenant(sync_aws, CatalogSource.MANUAL)
    answer = handler({"mode": "full"}, lambda_context())
    jobs = queued_jobs(url)
    assert answer["jobs"] == len(jobs) >= 1
    assert {j["mode"] for j in jobs} == {"full"}
    assert h_tenant_in(jobs, harness.tenant_id)
    # A schedule delivered twice in the same minute queues nothing new (FIFO dedupe).
    handler({"mode": "full"}, lambda_context())
    assert len(queued_jobs(url)) == len(jobs)


def h_tenant_in(jobs, tenant_id):
    return any(j["tenant_id"] == tenant_id for j in jobs)


def test_a_mongodb_tenant_syncs_through_the_service_wiring(sync_aws, monkeypatch):
    mongomock = pytest.importorskip("mongomock")

    from atende_shared.tenant_secrets import IntegrationSecret, write_secret

    mongo = mongomock.MongoClient()
    monkeypatch.setattr(service, "_mongo_client", lambda uri: mongo)
    tenant = new_tenant(sync_aws, CatalogSource.MONGODB)
    write_secret(
        "local",
        tenant,
        "mongodb",  # type: ignore[arg-type]
        IntegrationSecret(current={"uri": "mongodb://erp.example", "database": "loja"}),
    )
    mongo["loja"]["products"].insert_many(
        [{"_id": f"d{i}", "name": f"Doce {i}", "price": 3.5, "stock": 1} for i in range(4)]
    )
    url = sync_aws.queues["catalog"].url
    empty_queue(url)

    status, run = call("POST", f"/v1/tenants/{tenant}/sync-runs", {"mode": "full"})
    assert status == 202
    drain_catalog(url)

    status, done = call("GET", f"/v1/tenants/{tenant}/sync-runs/{run['run_id']}")
    assert done["status"] == "succeeded"
    assert done["counts"]["created"] == 4
