"""Random interleavings of calls, payments, credits, duplicates, crashes and sweeps keep
the ledger's invariants: balance == sum(ledger), each business id posted at most once,
reservations never negative and always the sum of the open calls' holds."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from functions.billing.logic.calls import sweep
from functions.billing.logic.credits import credit
from functions.billing.logic.engine import flush_outbox
from functions.billing.logic.messages import process_calls_message, process_payments_message
from functions.billing.models.session import SessionStatus
from tests.billing.builders import (
    asaas_envelope,
    asaas_payload,
    livekit_envelope,
    livekit_payload,
    room_for,
)
from tests.billing.conftest import TENANT, tenant
from tests.billing.fakes import Clock, Crash, FaultyStore, make_deps

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
CALL_EVENTS = ("room_started", "participant_joined", "participant_left", "room_finished")
PAYMENT_EVENTS = (
    "PAYMENT_CONFIRMED",
    "PAYMENT_RECEIVED",
    "PAYMENT_REFUNDED",
    "PAYMENT_PARTIALLY_REFUNDED",
    "PAYMENT_CHARGEBACK_REQUESTED",
)
FAULTS = ("commit", "commit_answer_lost", "after_commit", "before_publish", "after_publish")
PAYMENT_VALUES = {f"pay_{i}": v for i, v in enumerate((50.0, 12.34, 100.0))}


class Faults:
    def __init__(self) -> None:
        self.pending: str | None = None

    def __call__(self, step: str) -> None:
        if self.pending == step:
            self.pending = None
            raise Crash(step)


class LedgerMachine(RuleBasedStateMachine):
    """Drives billing logic like the queues would: at least once, in any order."""

    def make_store(self) -> Any:
        return None  # the fake store (make_deps default)

    def __init__(self) -> None:
        super().__init__()
        self.clock = Clock(T0)
        self.faults = Faults()
        self.deps = make_deps(
            [tenant(low_balance_threshold_cents=500)],
            store=self.make_store(),
            clock=self.clock,
            fault=self.faults,
        )
        self.delivered: list[tuple[str, str]] = []  # (queue, body) for duplicates
        self.redeliver_later: list[tuple[str, str]] = []

    # -- delivery ------------------------------------------------------------------------

    def _process(self, queue: str, body: str) -> None:
        process = process_calls_message if queue == "calls" else process_payments_message
        try:
            process(self.deps, body)
        except Crash:
            self.redeliver_later.append((queue, body))  # SQS makes it visible again later
        self.delivered.append((queue, body))

    def _arm(self, fault: str | None) -> None:
        if fault == "commit":
            self.deps.store.fail_next_commit = Crash("commit")
        elif fault == "commit_answer_lost":
            self.deps.store.fail_after_next_commit = Crash("lost")
        else:
            self.faults.pending = fault

    def _disarm(self) -> None:
        self.faults.pending = None
        self.deps.store.fail_next_commit = None
        self.deps.store.fail_after_next_commit = None

    # -- rules ---------------------------------------------------------------------------

    @rule(
        call=st.integers(0, 3),
        kind=st.sampled_from(CALL_EVENTS),
        fault=st.none() | st.sampled_from(FAULTS),
    )
    def call_event(self, call: int, kind: str, fault: str | None) -> None:
        room = room_for(TENANT, f"c{call}")
        start = T0 + timedelta(minutes=10 * call)
        at = {
            "room_started": start,
            "participant_joined": start + timedelta(seconds=1),
            "participant_left": start + timedelta(seconds=61 + 17 * call),
            "room_finished": start + timedelta(seconds=70 + 17 * call),
        }[kind]
        payload = livekit_payload(
            kind,
            room_name=room,
            at=at,
            event_id=f"{room}-{kind}",
            joined_at=start + timedelta(seconds=1),
            call_id=f"SCL_{call}",
        )
        self._arm(fault)
        self._process("calls", livekit_envelope(None, payload).model_dump_json())
        self._disarm()

    @rule(
        payment=st.sampled_from(sorted(PAYMENT_VALUES)),
        kind=st.sampled_from(PAYMENT_EVENTS),
        refunded=st.integers(1, 3),
        fault=st.none() | st.sampled_from(FAULTS),
    )
    def payment_event(self, payment: str, kind: str, refunded: int, fault: str | None) -> None:
        value = PAYMENT_VALUES[payment]
        refunds = None
        if kind == "PAYMENT_PARTIALLY_REFUNDED":
            refunds = [{"value": round(value / 10, 2), "status": "DONE"}] * refunded
        payload = asaas_payload(
            kind,
            payment_id=payment,
            value=value,
            event_id=f"{payment}-{kind}-{refunded}",
            refunds=refunds,
        )
        self._arm(fault)
        self._process("payments", asaas_envelope(TENANT, payload).model_dump_json())
        self._disarm()

    @rule(key=st.integers(0, 4))
    def manual_credit(self, key: int) -> None:
        # The same key always means the same request (amount derived from it).
        credit(TENANT, 1_000 * (key + 1), "r", "admin", f"k{key}", deps=self.deps)

    @rule(data=st.data())
    def duplicate(self, data: st.DataObject) -> None:
        if self.delivered:
            queue, body = data.draw(st.sampled_from(self.delivered))
            self._process(queue, body)

    @rule()
    def redeliver(self) -> None:
        pending, self.redeliver_later = self.redeliver_later, []
        for queue, body in pending:
            self._process(queue, body)

    @rule(seconds=st.sampled_from([30, 300, 3_600]))
    def time_passes_and_sweeper_runs(self, seconds: int) -> None:
        self.clock.advance(seconds)
        sweep(self.deps)

    # -- invariants ----------------------------------------------------------------------

    def _entries(self) -> list[Any]:
        return list(self.deps.store.iter_ledger(TENANT))

    @invariant()
    def balance_is_the_sum_of_the_ledger(self) -> None:
        entries = self._entries()
        balance = self.deps.store.get_balance(TENANT)
        assert balance.balance_cents == sum(e.amount_cents for e in entries)
        assert balance.entry_count == len(entries)

    @invariant()
    def each_business_id_posted_at_most_once(self) -> None:
        counts = Counter(e.business_id for e in self._entries())
        assert [b for b, n in counts.items() if n > 1] == []

    @invariant()
    def reservations_are_never_negative_and_match_open_calls(self) -> None:
        balance = self.deps.store.get_balance(TENANT)
        assert balance.reserved_cents >= 0
        held = 0
        for call in range(4):
            session = self.deps.store.get_session(TENANT, room_for(TENANT, f"c{call}"))
            if session is None:
                continue
            assert session.reserved_cents >= 0
            if session.status is not SessionStatus.OPEN:
                assert session.reserved_cents == 0
            held += session.reserved_cents
        assert balance.reserved_cents == held

    @invariant()
    def payments_never_debit_more_than_they_credited(self) -> None:
        per_payment: Counter[str] = Counter()
        for entry in self._entries():
            payment = entry.reference.get("payment_id")
            if payment:
                per_payment[payment] += entry.amount_cents
        for payment, net in per_payment.items():
            assert 0 <= net <= round(PAYMENT_VALUES[payment] * 100)

    def teardown(self) -> None:
        # Settle: every crashed message is redelivered, time runs out, outboxes flush.
        self._disarm()
        self.redeliver()
        self.clock.advance(6 * 3_600)
        sweep(self.deps)
        flush_outbox(self.deps, TENANT)
        balance = self.deps.store.get_balance(TENANT)
        assert balance.reserved_cents == 0
        assert self.deps.store.list_outbox(TENANT) == []
        self.balance_is_the_sum_of_the_ledger()
        self.each_business_id_posted_at_most_once()


TestLedgerOnFakeStore = LedgerMachine.TestCase
TestLedgerOnFakeStore.settings = settings(
    max_examples=100,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


class MotoLedgerMachine(LedgerMachine):
    """The same machine on the DynamoDB store (moto), fewer and shorter runs."""

    def make_store(self) -> Any:
        import os

        from functions.billing.dal.dynamo import DynamoBillingStore

        return FaultyStore(DynamoBillingStore(os.environ["ATENDE_MAIN_TABLE"]))


def test_ledger_machine_on_moto(aws):
    """One smaller run against moto: same rules, same invariants, real conditions."""
    from hypothesis.stateful import run_state_machine_as_test

    from atende_shared.dal.dynamo import table

    def fresh_machine() -> MotoLedgerMachine:
        # Each example starts from an empty table.
        main = table(aws.tables["main"])
        with main.batch_writer() as batch:
            for item in main.scan(ProjectionExpression="PK, SK")["Items"]:
                batch.delete_item(Key={"PK": item["PK"], "SK": item["SK"]})
        return MotoLedgerMachine()

    run_state_machine_as_test(
        fresh_machine,  # type: ignore[arg-type]  # it takes any factory
        settings=settings(
            max_examples=4,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
