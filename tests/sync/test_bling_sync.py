"""Bling catalog sync against the contract-faithful fake (first full sync, incremental,
429 storms, token expiry, crash and resume, the mass-deletion guard, quarantine)."""

from __future__ import annotations

import pytest

from functions.sync.dal.secrets import SecretsManagerTokenVault
from functions.sync.models.runs import RunStatus
from tests.sync.fakes import Crash


def seed(h, n: int = 250) -> None:
    for pid in range(1, n + 1):
        h.bling.add_product(pid, preco=10 + pid / 100, stock=pid % 7)


def test_first_full_sync_mirrors_the_catalog_within_the_rate_limit(harness):
    # Given 250 products, one inactive, one excluded, and three invalid ones
    h = harness
    seed(h)
    h.bling.touch(10, situacao="I")
    h.bling.touch(11, situacao="E")
    h.bling.touch(12, codigo="A1, A2")  # a list of codes in one field
    h.bling.touch(13, preco=None)
    h.bling.touch(14, codigo="SKU-15")  # duplicate of product 15's SKU
    h.bling.add_product(251, codigo="SKU-1", situacao="I")  # SKU reused by an inactive item
    h.bling.touch(20, preco=12.345)

    # When a full mirror runs
    run = h.sync("full")

    # Then every valid product is in the agent's menu, priced in cents, with its stock
    assert run.status == RunStatus.SUCCEEDED
    menu = h.menu().by_id()
    assert run.counts.read == 250  # 251 listed, the E one never read as a record
    assert run.counts.quarantined == 3
    assert run.counts.created == 247
    assert menu["bling-20"].price_cents == 1235  # 12.345 rounds half up
    assert menu["bling-3"].stock == 3
    assert not menu["bling-10"].available  # I: mirrored, not sellable
    assert "bling-11" not in menu  # E: never live
    both = h.catalog.get_items(h.tenant_id, ["bling-1", "bling-251"])
    assert both["bling-251"].item.sku == both["bling-1"].item.sku == "SKU-1"
    assert menu["bling-1"].available
    assert not menu["bling-251"].available
    reasons = {q.record_key: q.reason for q in h.runs.quarantine(h.tenant_id, run.run_id)}
    assert set(reasons) == {"12", "13", "15"}
    assert "malformed SKU" in reasons["12"]
    assert "missing price" in reasons["13"]
    assert "duplicate SKU 'SKU-15'" in reasons["15"]
    # And the fake never had to refuse a request: the shared limiter paced them (3/s)
    assert h.bling.throttled == 0
    assert h.clock.slept >= (len(h.bling.log) - 3) / 3 - 1
    # And the agent's menu cache hears about it
    assert h.events.events[-1].detail_type == "CatalogChanged"
    assert h.events.events[-1].items_upserted == 247


def test_an_unchanged_resync_writes_nothing(harness):
    h = harness
    seed(h, 120)
    h.sync("full")
    written = h.catalog.items_written
    events = len(h.events.events)

    run = h.sync("full")

    assert run.counts.unchanged == 120
    assert run.counts.upserted == 0
    assert h.catalog.items_written == written
    assert len(h.events.events) == events  # nothing changed: no CatalogChanged


def test_incremental_sync_reads_only_what_changed_since_the_cursor(harness):
    h = harness
    seed(h, 150)
    h.clock.advance(3_600)
    first = h.sync("incremental")  # no cursor yet: reads the last day
    assert first.counts.created == 150
    h.clock.advance(3_600)
    h.bling.touch(7, preco=99.9)
    h.bling.touch(140, nome="Calzone")
    h.bling.log.clear()

    run = h.sync("incremental")

    assert run.status == RunStatus.SUCCEEDED
    assert run.counts.read == 2
    assert run.counts.updated == 2
    listing = [p for m, path, p in h.bling.log if path == "/produtos"]
    assert listing
    assert all("dataAlteracaoInicial" in p for p in listing)
    assert h.menu().by_id()["bling-7"].price_cents == 9990
    assert h.runs.get_cursor(h.tenant_id, "bling") == run.started_at


def test_incremental_sync_hides_products_excluded_at_the_source(harness):
    h = harness
    seed(h, 5)
    h.sync("full")
    h.clock.advance(60)
    h.bling.touch(2, situacao="E")

    run = h.sync("incremental")

    assert run.counts.deleted == 1
    assert not h.menu().by_id()["bling-2"].available


def test_a_429_storm_is_ridden_out_with_backoff(harness):
    h = harness
    seed(h, 120)
    h.bling.storm = 8

    run = h.sync("full")

    assert run.status == RunStatus.SUCCEEDED
    assert run.counts.created == 120
    assert h.bling.throttled == 8
    assert sum(api.throttled for api in h.apis) == 8


def test_token_expiry_mid_run_refreshes_once_and_stores_the_pair_first(harness, monkeypatch):
    h = harness
    h.page_limit = 20
    seed(h, 60)
    old = h.stored_credentials()
    pages = {"n": 0}
    timeline: list[tuple[str, str | None]] = []
    original_save = SecretsManagerTokenVault.save

    def recording_save(self, credentials):
        original_save(self, credentials)
        timeline.append(("stored", credentials.access_token))

    monkeypatch.setattr(SecretsManagerTokenVault, "save", recording_save)

    def expire_after_first_page(request):
        timeline.append(("used", request.headers["Authorization"].removeprefix("Bearer ")))
        if request.url.path.endswith("/produtos"):
            pages["n"] += 1
            if pages["n"] == 2:
                h.bling.expire_access_tokens()
        return False

    h.bling.crash_when = expire_after_first_page

    run = h.sync("full")

    assert run.status == RunStatus.SUCCEEDED
    assert run.counts.created == 60
    assert h.bling.refreshes == 1
    new = h.stored_credentials()
    # The rotated pair was stored before its first use.
    first_use = timeline.index(("used", new.access_token))
    assert timeline.index(("stored", new.access_token)) < first_use
    assert new.refresh_token != old.refresh_token
    assert new.access_token != old.access_token
    # The old refresh token stopped working: only the stored pair can refresh now.
    answer = h.http().post(
        "/oauth/token",
        auth=(h.bling.client_id, h.bling.client_secret),
        data={"grant_type": "refresh_token", "refresh_token": old.refresh_token},
    )
    assert answer.status_code == 400


def test_two_workers_with_an_expired_token_refresh_exactly_once(harness):
    # Given two functions holding the same (now expired) access token
    h = harness
    stale = h.stored_credentials().access_token
    h.bling.expire_access_tokens()
    first, second = h.token_manager(), h.token_manager()

    # When both refresh (the second one after the first stored the new pair)
    token_a = first.refresh(stale=stale)
    token_b = second.refresh(stale=stale)

    # Then Bling saw one refresh and both use the same new token
    assert h.bling.refreshes == 1
    assert token_a == token_b == h.stored_credentials().access_token


def test_a_refresher_waits_while_another_holds_the_lock(harness):
    h = harness
    stale = h.stored_credentials().access_token
    h.bling.expire_access_tokens()
    lock = h.token_manager()._lock
    held = lock.acquire("bling-token", ttl_seconds=30)
    assert held
    waiting = h.token_manager()
    calls = {"n": 0}
    original = h.clock.sleep

    def sleep_and_finish_the_other_refresh(seconds):
        calls["n"] += 1
        if calls["n"] == 2:  # meanwhile the holder refreshes and stores the pair
            lock.release("bling-token", held)
            h.token_manager().refresh(stale=stale)
        original(seconds)

    waiting._sleep = sleep_and_finish_the_other_refresh
    token = waiting.refresh(stale=stale)

    assert h.bling.refreshes == 1
    assert token == h.stored_credentials().access_token


def test_the_rate_limit_is_shared_across_concurrent_functions(harness):
    h = harness
    seed(h, 3)
    a, b = h.api(), h.api()
    for _ in range(8):
        a.request("GET", "/produtos/1")
        b.request("GET", "/produtos/2")
    assert h.bling.throttled == 0
    assert h.clock.slept >= 4.5  # 16 requests at 3/s


def test_a_crash_mid_run_resumes_from_the_last_durable_page(harness):
    h = harness
    h.page_limit = 20
    seed(h, 90)  # 5 pages of 20
    run_id = h.new_run("full")
    listing = {"n": 0}

    def die_on_third_page(request):
        if request.url.path.endswith("/produtos"):
            listing["n"] += 1
            return listing["n"] == 3
        return False

    h.bling.crash_when = die_on_third_page
    with pytest.raises(Crash):
        h.engine.run_pull(h.tenant_id, run_id, h.connector())
    mid = h.runs.get_run(h.tenant_id, run_id)
    assert mid.status == RunStatus.RUNNING
    assert mid.next_page == 3
    assert len(h.menu().items) == 40

    # When the job is redelivered
    h.bling.crash_when = None
    h.bling.log.clear()
    h.engine.run_pull(h.tenant_id, run_id, h.connector())

    # Then it reads only the pages after the last durable one, and nothing is missing
    pages = [int(p["pagina"][0]) for m, path, p in h.bling.log if path == "/produtos"]
    assert pages == [3, 4, 5]
    done = h.runs.get_run(h.tenant_id, run_id)
    assert done.status == RunStatus.SUCCEEDED
    assert done.counts.created == 90
    assert len(h.menu().items) == 90
    assert done.counts.deleted == 0


def test_out_of_time_runs_continue_in_a_new_job(harness):
    h = harness
    h.page_limit = 20
    seed(h, 60)
    run_id = h.new_run("full")
    budget = {"n": 0}

    def two_pages_per_invocation():
        budget["n"] += 1
        return budget["n"] > 2

    worker = h.worker(out_of_time=two_pages_per_invocation)
    from functions.sync.models.runs import SyncJob

    job = SyncJob(tenant_id=h.tenant_id, mode="full", run_id=run_id).model_dump_json()
    assert worker.handle(job) == "continue"
    sqs = __import__("atende_shared.aws", fromlist=["client"]).client("sqs")
    sent = sqs.receive_message(QueueUrl=h.aws.queues["catalog"].url)["Messages"]
    assert SyncJob.model_validate_json(sent[0]["Body"]).run_id == run_id
    budget["n"] = -100
    assert worker.handle(job) == "done"
    assert h.runs.get_run(h.tenant_id, run_id).counts.created == 60


def test_guard_refuses_to_mirror_an_empty_snapshot(harness):
    h = harness
    seed(h, 40)
    h.sync("full")
    h.bling.products.clear()

    run = h.sync("full")

    assert run.status == RunStatus.GUARDED
    assert run.guard["reason"] == "empty snapshot"
    assert run.guard["would_delete"] == 40
    assert sum(i.available for i in h.menu().items) == 40  # catalog intact
    assert h.catalog.deletes_written == 0


def test_guard_refuses_to_mirror_a_half_snapshot(harness):
    h = harness
    seed(h, 40)
    h.sync("full")
    for pid in range(21, 41):
        del h.bling.products[pid]

    run = h.sync("full")

    assert run.status == RunStatus.GUARDED
    assert run.guard == {
        "reason": "too many deletions",
        "live_items": 40,
        "snapshot_items": 20,
        "would_delete": 20,
        "threshold": 8,
    }
    assert sum(i.available for i in h.menu().items) == 40


def test_small_deletions_are_soft_and_an_admin_can_allow_a_mass_deletion(harness):
    h = harness
    seed(h, 40)
    h.sync("full")
    for pid in (1, 2):
        del h.bling.products[pid]

    run = h.sync("full")

    assert run.status == RunStatus.SUCCEEDED
    assert run.counts.deleted == 2
    gone = h.catalog.get_items(h.tenant_id, ["bling-1"])["bling-1"]
    assert gone.state.deleted
    assert not gone.item.available
    for pid in range(3, 31):
        del h.bling.products[pid]
    assert h.sync("full").status == RunStatus.GUARDED
    allowed = h.sync("full", allow_mass_deletion=True)
    assert allowed.status == RunStatus.SUCCEEDED
    assert allowed.counts.deleted == 28
    assert sum(i.available for i in h.menu().items) == 10


def test_a_product_that_comes_back_is_restored(harness):
    h = harness
    seed(h, 10)
    h.sync("full")
    product = h.bling.products.pop(3)
    h.sync("full")
    assert not h.menu().by_id()["bling-3"].available
    h.bling.products[3] = product

    run = h.sync("full")

    assert run.counts.updated == 1
    assert h.menu().by_id()["bling-3"].available
