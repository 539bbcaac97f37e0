"""A consumer crash between any two steps leaves no partial effect, and the redelivery of
the same message completes the work (nothing lost, nothing doubled)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from atende_shared.models.tenant import TenantStatus
from functions.billing.logic.messages import process_calls_message, process_payments_message
from tests.billing.builders import (
    asaas_envelope,
    asaas_payload,
    livekit_envelope,
    livekit_payload,
    room_for,
)
from tests.billing.conftest import TENANT, fund, tenant
from tests.billing.fakes import Clock, Crash, make_deps

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
ROOM = room_for(TENANT, "crash")
STEPS = ("commit", "commit_answer_lost", "after_commit", "before_publish", "after_publish")


def messages() -> list[str]:
    bodies = []
    for kind, at in (
        ("room_started", T0),
        ("participant_joined", T0),
        ("participant_left", T0 + timedelta(seconds=300)),
        ("room_finished", T0 + timedelta(seconds=305)),
    ):
        payload = livekit_payload(kind, room_name=ROOM, at=at, event_id=f"EV_{kind}", joined_at=T0)
        bodies.append(livekit_envelope(None, payload).model_dump_json())
    return bodies


class OneShot:
    """Crash once, at ``step``, while handling message number ``index``."""

    def __init__(self, step: str) -> None:
        self.step = step
        self.armed = False
        self.fired = False

    def __call__(self, step: str) -> None:
        if self.armed and not self.fired and step == self.step:
            self.fired = True
            raise Crash(step)


def snapshot(deps):
    store = deps.store
    return (
        store.get_balance(TENANT),
        list(store.iter_ledger(TENANT)),
        store.get_session(TENANT, ROOM),
        sorted(store.applied.get(TENANT, set())),
    )


def deliver_with_redelivery(deps, fault: OneShot, bodies: list[str], crash_at: int, process):
    for index, body in enumerate(bodies):
        fault.armed = index == crash_at
        if fault.armed and fault.step == "commit":
            deps.store.fail_next_commit = Crash("commit")
            fault.fired = True
        if fault.armed and fault.step == "commit_answer_lost":
            deps.store.fail_after_next_commit = Crash("answer lost")
            fault.fired = True
        before = snapshot(deps)
        try:
            process(deps, body)
        except Crash:
            after = snapshot(deps)
            if fault.step == "commit":
                # Nothing of the failed unit of work is visible
                assert after == before
            # Whatever did land is self-consistent
            balance = deps.store.get_balance(TENANT)
            assert balance.balance_cents == deps.store.ledger_sum(TENANT)
            process(deps, body)  # SQS redelivers the same message


def clean_run():
    deps = make_deps([tenant()], clock=Clock(T0 + timedelta(seconds=400)))
    fund(deps, 200)
    for body in messages():
        process_calls_message(deps, body)
    return deps


def final_state(deps):
    balance = deps.store.get_balance(TENANT)
    ledger = [(e.business_id, e.amount_cents) for e in deps.store.iter_ledger(TENANT)]
    published = {
        name: len(deps.publisher.unique_of_type(name))
        for name in ("CallEnded", "TenantSuspended", "BalanceLow")
    }
    return (
        balance.balance_cents,
        balance.reserved_cents,
        ledger,
        deps.tenants.get_tenant(TENANT).status,
        published,
        deps.store.list_outbox(TENANT),
    )


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("crash_at", range(4))
def test_crash_then_redelivery_converges_to_the_clean_result(step, crash_at):
    expected = final_state(clean_run())
    assert expected[0] == 200 - 450
    assert expected[3] is TenantStatus.SUSPENDED
    # Given the same call, with a crash injected at `step` while handling message `crash_at`
    fault = OneShot(step)
    deps = make_deps([tenant()], clock=Clock(T0 + timedelta(seconds=400)), fault=fault)
    fund(deps, 200)
    deliver_with_redelivery(deps, fault, messages(), crash_at, process_calls_message)
    # Then after the redelivery the outcome is exactly the clean run's
    assert final_state(deps) == expected


@pytest.mark.parametrize("step", STEPS)
def test_payment_crash_then_redelivery_credits_once(step):
    fault = OneShot(step)
    deps = make_deps([tenant()], fault=fault)
    body = asaas_envelope(
        TENANT, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=25.0)
    ).model_dump_json()
    deliver_with_redelivery(deps, fault, [body], 0, process_payments_message)
    assert [e.amount_cents for e in deps.store.iter_ledger(TENANT)] == [2_500]
    assert len(deps.publisher.unique_of_type("PaymentReceived")) == 1
    assert deps.store.list_outbox(TENANT) == []
