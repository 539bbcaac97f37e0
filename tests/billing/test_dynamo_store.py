"""The DynamoDB store honours the unit-of-work contract (moto)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from atende_shared.dal.dynamo import table
from atende_shared.dal.keys import tenant_pk
from functions.billing.dal.protocol import AlreadyApplied, ConcurrentUpdate, Transaction
from functions.billing.logic.calls import handle_call_signal, sweep
from functions.billing.logic.credits import credit
from functions.billing.logic.engine import post
from functions.billing.logic.jobs import reconcile
from functions.billing.models.ledger import EntryKind, NewEntry
from tests.billing.builders import livekit_payload, livekit_signal, room_for
from tests.billing.conftest import TENANT, tenant

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def entry(business_id: str, amount: int) -> NewEntry:
    return NewEntry(business_id=business_id, kind=EntryKind.MANUAL_CREDIT, amount_cents=amount)


def test_commit_is_atomic_and_version_checked(moto_deps):
    store, plan = moto_deps.store, tenant().plan
    start = store.get_balance(TENANT)
    first = post(start, plan, [entry("a", 100)], now=NOW, correlation_id="c")
    store.commit(
        Transaction(tenant_id=TENANT, balance=first.balance, entries=first.entries, applied=("a",))
    )
    # A writer that computed from the same starting version loses, and writes nothing
    stale = post(start, plan, [entry("b", 50)], now=NOW + timedelta(seconds=1), correlation_id="c")
    with pytest.raises(ConcurrentUpdate):
        store.commit(
            Transaction(
                tenant_id=TENANT, balance=stale.balance, entries=stale.entries, applied=("b",)
            )
        )
    assert store.get_balance(TENANT).balance_cents == 100
    assert [e.business_id for e in store.iter_ledger(TENANT)] == ["a"]
    assert not store.is_applied(TENANT, "b")
    # Re-posting an applied business id is refused as such
    current = store.get_balance(TENANT)
    again = post(
        current, plan, [entry("a", 100)], now=NOW + timedelta(seconds=2), correlation_id="c"
    )
    with pytest.raises(AlreadyApplied):
        store.commit(
            Transaction(
                tenant_id=TENANT, balance=again.balance, entries=again.entries, applied=("a",)
            )
        )
    assert store.get_balance(TENANT).balance_cents == 100


def test_ledger_pages_and_period_filter(moto_deps):
    for day in range(1, 6):
        moto_deps.clock = lambda day=day: datetime(2026, 11, day, 10, tzinfo=UTC)
        credit(TENANT, day * 100, "r", "a", f"k{day}", deps=moto_deps)
    store = moto_deps.store
    page = store.list_ledger(TENANT, limit=2)
    assert [e.amount_cents for e in page.items] == [100, 200]
    rest = store.list_ledger(TENANT, limit=10, after=page.position)
    assert [e.amount_cents for e in rest.items] == [300, 400, 500]
    period = store.list_ledger(
        TENANT, start=datetime(2026, 11, 2, tzinfo=UTC), end=datetime(2026, 11, 4, 10, tzinfo=UTC)
    )
    assert [e.amount_cents for e in period.items] == [200, 300]  # end is exclusive
    before = store.last_entry_before(TENANT, datetime(2026, 11, 3, 10, tzinfo=UTC))
    assert before.balance_after_cents == 300


class RacingStore:
    """The real store, but every thread's first balance read waits for all the others, so
    all 8 threads compute their first debit from the same version: a guaranteed race."""

    def __init__(self, inner, parties: int) -> None:
        self._inner = inner
        self._barrier = threading.Barrier(parties)
        self._local = threading.local()
        self.conflicts = 0
        self._count_lock = threading.Lock()

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def get_balance(self, tenant_id):
        balance = self._inner.get_balance(tenant_id)
        if not getattr(self._local, "raced", False):
            self._local.raced = True
            self._barrier.wait(timeout=30)
        return balance

    def commit(self, tx):
        try:
            self._inner.commit(tx)
        except ConcurrentUpdate:
            with self._count_lock:
                self.conflicts += 1
            raise


def test_concurrent_debits_on_one_tenant_never_lose_an_update(moto_deps):
    # Given 8 threads each posting 6 distinct debits on the same tenant, all starting
    # from the same balance version
    racing = RacingStore(moto_deps.store, parties=8)
    moto_deps.store = racing
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(6):
                credit(TENANT, -7, "debit", "t", f"w{n}-{i}", deps=moto_deps)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    # (moto requests are made atomic for the whole session: tests/conftest.py)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    moto_deps.store = racing._inner
    # Then the race happened (7 of the first 8 commits lost their version check) ...
    assert errors == []
    assert racing.conflicts >= 7
    # ... and still every debit is in the ledger and in the balance, exactly once
    entries = list(moto_deps.store.iter_ledger(TENANT))
    assert len(entries) == 48
    assert moto_deps.store.get_balance(TENANT).balance_cents == -7 * 48
    assert sorted(e.seq for e in entries) == list(range(1, 49))
    assert reconcile(moto_deps).mismatches == []


def test_sweeper_finds_open_sessions_through_the_index(moto_deps):
    room = room_for(TENANT, "swept")
    start = datetime(2026, 11, 22, 12, tzinfo=UTC)
    moto_deps.clock = lambda: start
    payload = livekit_payload("participant_joined", room_name=room, at=start, event_id="EV1")
    handle_call_signal(moto_deps, livekit_signal(None, payload))
    assert moto_deps.store.due_sessions(start) == []
    assert moto_deps.store.count_open_sessions() == 1  # the calls-in-progress gauge
    later = start + timedelta(hours=1)
    assert moto_deps.store.due_sessions(later) == [(TENANT, room)]
    moto_deps.clock = lambda: later
    report = sweep(moto_deps)
    assert (report.closed, report.open_calls) == (1, 0)
    session = moto_deps.store.get_session(TENANT, room)
    assert session is not None
    assert (session.status.value, session.duration_seconds, session.amount_cents) == (
        "rated",
        900,
        1_350,
    )
    assert moto_deps.store.due_sessions(later) == []  # closed sessions leave the index


def test_reconciliation_detects_a_tampered_balance(moto_deps):
    credit(TENANT, 5_000, "r", "a", "k1", deps=moto_deps)
    assert reconcile(moto_deps).mismatches == []
    # Given someone edits the balance item by hand
    table(moto_deps.store._table_name).update_item(
        Key={"PK": tenant_pk(TENANT), "SK": "BALANCE"},
        UpdateExpression="SET balance_cents = :v",
        ExpressionAttributeValues={":v": 9_999},
    )
    # Then the reconciliation names the tenant and the difference
    report = reconcile(moto_deps)
    assert [(m.tenant_id, m.difference_cents) for m in report.mismatches] == [(TENANT, 4_999)]


def test_sweeper_publishes_what_a_crashed_credit_left_in_the_outbox(moto_deps):
    from tests.billing.fakes import Crash

    # Given an admin top-up that resumes a suspended tenant, crashing before the publish
    credit(TENANT, -100, "debt", "admin", "k0", deps=moto_deps)  # suspended (below floor)

    def crash(step: str) -> None:
        if step == "before_publish":
            raise Crash(step)

    moto_deps.fault = crash
    with pytest.raises(Crash):
        credit(TENANT, 1_000, "top up", "admin", "k1", deps=moto_deps)
    moto_deps.fault = lambda _step: None
    assert moto_deps.store.tenants_with_pending_outbox() == [TENANT]
    # When the sweeper runs (nobody retried the request)
    report = sweep(moto_deps)
    # Then the pending TenantResumed is published and the outbox is empty
    assert report.outbox_flushed == 1
    assert [e.detail_type for e in moto_deps.publisher.events][-1] == "TenantResumed"
    assert moto_deps.store.tenants_with_pending_outbox() == []
