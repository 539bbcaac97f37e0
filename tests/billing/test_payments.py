"""Payments credit once, refunds and chargebacks debit, from any order of events."""

from __future__ import annotations

import pytest

from atende_shared.errors import ValidationFailed
from atende_shared.models.tenant import Integrations
from functions.billing.logic.messages import process_payments_message
from functions.billing.logic.payments import brl_to_cents, handle_payment, signal_from_event
from tests.billing.builders import asaas_envelope, asaas_payload
from tests.billing.conftest import TENANT, tenant
from tests.billing.fakes import make_deps


def deliver(deps, payload, tenant_id=TENANT):
    return process_payments_message(deps, asaas_envelope(tenant_id, payload).model_dump_json())


def entries(deps):
    return [(e.kind.value, e.amount_cents) for e in deps.store.iter_ledger(TENANT)]


def test_confirmed_then_received_credits_once(deps):
    # Given Asaas sends PAYMENT_CONFIRMED and then PAYMENT_RECEIVED for one payment
    deliver(deps, asaas_payload("PAYMENT_CONFIRMED", payment_id="pay_1", value=100.0))
    deliver(deps, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=100.0))
    # Then the balance is credited once
    assert entries(deps) == [("payment_credit", 10_000)]
    assert deps.store.get_balance(TENANT).balance_cents == 10_000
    assert len(deps.publisher.unique_of_type("PaymentReceived")) == 1


def test_the_same_event_delivered_twice_credits_once(deps):
    payload = asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=50.0, event_id="evt_1")
    assert deliver(deps, payload).status == "posted"
    assert deliver(deps, payload).status == "duplicate"
    assert entries(deps) == [("payment_credit", 5_000)]


def test_refund_after_credit_debits_it(deps):
    deliver(deps, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=100.0))
    deliver(deps, asaas_payload("PAYMENT_REFUNDED", payment_id="pay_1", value=100.0))
    deliver(deps, asaas_payload("PAYMENT_REFUNDED", payment_id="pay_1", value=100.0))  # again
    assert entries(deps) == [("payment_credit", 10_000), ("payment_refund", -10_000)]
    assert deps.store.get_balance(TENANT).balance_cents == 0


def test_partial_refunds_debit_only_what_is_new(deps):
    deliver(deps, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=100.0))
    first = [{"value": 30.0, "status": "DONE", "dateCreated": "2026-11-22"}]
    deliver(
        deps,
        asaas_payload("PAYMENT_PARTIALLY_REFUNDED", payment_id="pay_1", value=100.0, refunds=first),
    )
    second = [*first, {"value": 20.5, "status": "PENDING"}, {"value": 99, "status": "CANCELLED"}]
    deliver(
        deps,
        asaas_payload(
            "PAYMENT_PARTIALLY_REFUNDED", payment_id="pay_1", value=100.0, refunds=second
        ),
    )
    assert entries(deps) == [
        ("payment_credit", 10_000),
        ("payment_refund", -3_000),
        ("payment_refund", -2_050),
    ]


def test_refund_arriving_before_its_payment_converges(deps):
    # Given the refund is delivered first (out of order)
    deliver(deps, asaas_payload("PAYMENT_REFUNDED", payment_id="pay_1", value=80.0))
    assert entries(deps) == []  # nothing credited yet: nothing to take back
    # When the payment arrives, credit and refund post together
    deliver(deps, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=80.0))
    assert entries(deps) == [("payment_credit", 8_000), ("payment_refund", -8_000)]
    assert deps.store.get_balance(TENANT).balance_cents == 0


def test_chargeback_debits_the_unrefunded_rest(deps):
    deliver(deps, asaas_payload("PAYMENT_RECEIVED", payment_id="pay_1", value=100.0))
    refunds = [{"value": 10.0, "status": "DONE"}]
    deliver(
        deps,
        asaas_payload(
            "PAYMENT_PARTIALLY_REFUNDED", payment_id="pay_1", value=100.0, refunds=refunds
        ),
    )
    deliver(deps, asaas_payload("PAYMENT_CHARGEBACK_REQUESTED", payment_id="pay_1", value=100.0))
    deliver(deps, asaas_payload("PAYMENT_CHARGEBACK_REQUESTED", payment_id="pay_1", value=100.0))
    assert entries(deps) == [
        ("payment_credit", 10_000),
        ("payment_refund", -1_000),
        ("payment_chargeback", -9_000),
    ]


def test_other_asaas_events_are_ignored(deps):
    outcome = deliver(deps, asaas_payload("PAYMENT_CREATED", payment_id="pay_1", value=10.0))
    assert outcome.status == "ignored"
    assert entries(deps) == []


@pytest.mark.parametrize(
    ("value", "cents"), [(10.1, 1010), (0.29, 29), (19.99, 1999), (1234.565, 123457), (7, 700)]
)
def test_float_brl_become_exact_cents(value, cents):
    assert brl_to_cents(value) == cents


def test_external_reference_naming_another_tenant_is_refused(deps):
    payload = asaas_payload(
        "PAYMENT_RECEIVED", payment_id="pay_1", value=10.0, external_reference="atende:outra-loja"
    )
    with pytest.raises(ValidationFailed, match="another tenant"):
        deliver(deps, payload)
    assert entries(deps) == []


def test_external_reference_routes_a_payment_without_a_tenant_route():
    deps = make_deps([tenant()])
    payload = asaas_payload(
        "PAYMENT_RECEIVED", payment_id="pay_9", value=10.0, external_reference=f"atende:{TENANT}"
    )
    envelope = asaas_envelope(TENANT, payload).model_copy(update={"tenant_id": None})
    signal = signal_from_event(envelope)
    assert signal is not None
    assert signal.tenant_id == TENANT
    handle_payment(deps, signal)
    assert deps.store.get_balance(TENANT).balance_cents == 1_000


def test_customer_of_another_account_is_refused():
    owned = tenant().model_copy(update={"integrations": Integrations(payment_customer_id="cus_me")})
    deps = make_deps([owned])
    payload = asaas_payload(
        "PAYMENT_RECEIVED", payment_id="pay_1", value=10.0, customer="cus_other"
    )
    with pytest.raises(ValidationFailed, match="customer"):
        deliver(deps, payload)


def test_custom_standard_webhook_payment_credits(deps):
    from datetime import UTC, datetime

    from atende_shared.models.envelope import InboundEvent, Provider

    envelope = InboundEvent(
        tenant_id=TENANT,
        provider=Provider.CUSTOM,
        provider_event_id="msg_1",
        type="payment.received",
        occurred_at=datetime(2026, 11, 22, tzinfo=UTC),
        correlation_id="c1",
        payload={"data": {"payment_id": "p1", "amount_cents": 2_500}},
    )
    process_payments_message(deps, envelope.model_dump_json())
    assert entries(deps) == [("payment_credit", 2_500)]
