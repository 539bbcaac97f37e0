"""Low balance, suspension at the floor, and automatic resumption on top-up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from atende_shared.models.tenant import SuspensionReason, TenantStatus
from functions.billing.logic.calls import handle_call_signal
from functions.billing.logic.credits import credit
from functions.billing.logic.messages import process_payments_message
from tests.billing.builders import (
    asaas_envelope,
    asaas_payload,
    livekit_payload,
    livekit_signal,
    room_for,
)
from tests.billing.conftest import TENANT, fund, tenant
from tests.billing.fakes import Clock, make_deps

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)


def call(deps, seconds: int, name: str) -> None:
    room = room_for(TENANT, name)
    joined = T0
    for kind, at in (
        ("participant_joined", T0),
        ("participant_left", T0 + timedelta(seconds=seconds)),
    ):
        payload = livekit_payload(
            kind, room_name=room, at=at, event_id=f"{name}-{kind}", joined_at=joined
        )
        handle_call_signal(deps, livekit_signal(None, payload))


def status(deps) -> TenantStatus:
    return deps.tenants.get_tenant(TENANT).status


def test_crossing_the_threshold_publishes_balance_low_once():
    deps = make_deps([tenant(low_balance_threshold_cents=1_000)], clock=Clock(T0))
    fund(deps, 1_500)
    call(deps, 300, "a")  # 450 → 1,050: above the threshold
    assert deps.publisher.of_type("BalanceLow") == []
    call(deps, 60, "b")  # 90 → 960: crosses
    call(deps, 60, "c")  # 870: already notified
    low = deps.publisher.of_type("BalanceLow")
    assert [(e.balance_cents, e.threshold_cents) for e in low] == [(960, 1_000)]


def test_debit_crossing_the_floor_posts_and_suspends_then_top_up_resumes():
    # Given a tenant with R$ 2.00 and a floor of 0
    deps = make_deps([tenant()], clock=Clock(T0))
    fund(deps, 200)
    # When a call costing R$ 4.50 ends
    call(deps, 300, "long")
    # Then the debit still posts (the call happened), the tenant is suspended, event out
    assert deps.store.get_balance(TENANT).balance_cents == -250
    assert status(deps) is TenantStatus.SUSPENDED
    suspended = deps.publisher.of_type("TenantSuspended")
    assert [(e.reason, e.balance_cents) for e in suspended] == [("balance_exhausted", -250)]
    # When a payment lifts the balance above the floor
    payload = asaas_payload("PAYMENT_RECEIVED", payment_id="pay_top", value=50.0)
    process_payments_message(deps, asaas_envelope(TENANT, payload).model_dump_json())
    # Then the tenant is active again and TenantResumed is published
    assert status(deps) is TenantStatus.ACTIVE
    assert [e.reason for e in deps.publisher.of_type("TenantResumed")] == ["top_up"]


def test_top_up_that_does_not_clear_the_debt_keeps_the_suspension():
    deps = make_deps([tenant()], clock=Clock(T0))
    call(deps, 120, "x")  # -180
    credit(TENANT, 100, "partial", "admin", "k1", deps=deps)  # -80
    assert status(deps) is TenantStatus.SUSPENDED
    assert deps.publisher.of_type("TenantResumed") == []


def test_admin_suspended_tenant_is_not_resumed_by_a_top_up():
    admin_suspended = tenant().model_copy(update={"status": TenantStatus.SUSPENDED})
    deps = make_deps([admin_suspended], clock=Clock(T0))
    fund(deps, 10_000)
    assert status(deps) is TenantStatus.SUSPENDED
    assert deps.publisher.of_type("TenantResumed") == []


def test_a_top_up_lifts_only_the_balance_hold_not_an_admins():
    # Given a tenant suspended for its balance, and then by an admin as well
    deps = make_deps([tenant()], clock=Clock(T0))
    call(deps, 120, "x")  # -180: below the floor
    both = deps.tenants.get_tenant(TENANT).held(SuspensionReason.ADMIN)
    deps.tenants.put_tenant(both)
    assert both.suspended_for == [SuspensionReason.ADMIN, SuspensionReason.BALANCE]
    # When a payment clears the debt
    credit(TENANT, 1_000, "top-up", "admin", "k1", deps=deps)
    # Then the balance hold is gone, the admin's stays, and nobody is told it resumed
    after = deps.tenants.get_tenant(TENANT)
    assert (after.status, after.suspended_for) == (
        TenantStatus.SUSPENDED,
        [SuspensionReason.ADMIN],
    )
    assert deps.publisher.of_type("TenantResumed") == []


def test_balance_suspension_of_an_admin_suspended_tenant_adds_its_hold():
    admin_suspended = tenant().held(SuspensionReason.ADMIN)
    deps = make_deps([admin_suspended], clock=Clock(T0))
    call(deps, 120, "x")  # -180
    assert deps.tenants.get_tenant(TENANT).suspended_for == [
        SuspensionReason.ADMIN,
        SuspensionReason.BALANCE,
    ]
    assert [e.reason for e in deps.publisher.of_type("TenantSuspended")] == ["balance_exhausted"]


def test_negative_floor_allows_an_overdraft():
    deps = make_deps([tenant(balance_floor_cents=-500)], clock=Clock(T0))
    call(deps, 300, "a")  # -450: above the floor
    assert status(deps) is TenantStatus.ACTIVE
    call(deps, 60, "b")  # -540: below
    assert status(deps) is TenantStatus.SUSPENDED


def test_manual_credit_is_idempotent_and_records_the_admin():
    deps = make_deps([tenant()])
    first = credit(TENANT, 1_000, "goodwill", "arn:aws:iam::1:user/ana", "k-1", deps=deps)
    again = credit(TENANT, 1_000, "goodwill", "arn:aws:iam::1:user/ana", "k-1", deps=deps)
    assert (first.applied, again.applied) == (True, False)
    entry = next(deps.store.iter_ledger(TENANT))
    assert (entry.actor, entry.description, entry.kind.value) == (
        "arn:aws:iam::1:user/ana",
        "goodwill",
        "manual_credit",
    )
    adjustment = credit(TENANT, -300, "correction", "ana", "k-2", deps=deps)
    assert adjustment.entry is not None
    assert adjustment.entry.kind.value == "manual_adjustment"
    assert deps.store.get_balance(TENANT).balance_cents == 700
