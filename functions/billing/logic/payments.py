"""Payments: credit once per payment, debit refunds and chargebacks, from any order."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from atende_shared.dal.keys import tenant_pk
from atende_shared.errors import NotFound, ValidationFailed
from atende_shared.events import PaymentReceived
from atende_shared.models.asaas import (
    ASAAS_BALANCE_EVENTS,
    AsaasPayment,
    AsaasRefund,
    brl_cents,
)
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.observability import logger
from atende_shared.rooms import tenant_from_metadata
from functions.billing.dal.protocol import Transaction
from functions.billing.logic.calls import CallOutcome
from functions.billing.logic.engine import BillingDeps, flush_outbox, post, run_unit
from functions.billing.logic.verification import verify_at_source
from functions.billing.models.ledger import EntryKind, NewEntry
from functions.billing.models.payments import PaymentRecord, PaymentSignal
from functions.billing.models.session import MAX_SEEN_EVENTS

#: Asaas events → what they mean for the prepaid balance. Everything else is ignored.
ASAAS_KINDS: dict[str, str] = dict(ASAAS_BALANCE_EVENTS)
#: Standard-Webhooks custom senders: ``payment.*`` with integer cents.
CUSTOM_KINDS: dict[str, str] = {
    "payment.received": "credit",
    "payment.succeeded": "credit",
    "payment.refunded": "refund",
    "payment.chargeback": "chargeback",
}


def brl_to_cents(value: Any) -> int:
    """A BRL amount (a JSON number) in integer cents; anything else is refused."""
    try:
        amount = AsaasRefund.model_validate({"value": value}).value
    except ValidationError as exc:
        raise ValidationFailed(f"invalid amount {value!r}") from exc
    return brl_cents(amount)


def _tenant_from_reference(reference: Any) -> str | None:
    """A tenant named by ``externalReference``: ``atende:<tenant>`` or JSON metadata with
    ``tenant_id``. Anything else (an invoice number...) names no tenant."""
    if not isinstance(reference, str):
        return None
    if reference.startswith("{"):
        return tenant_from_metadata(reference)
    if not reference.startswith("atende:"):
        return None
    candidate = reference.removeprefix("atende:")
    try:
        tenant_pk(candidate)
    except ValueError:
        return None
    return candidate


def signal_from_event(event: InboundEvent) -> PaymentSignal | None:
    """Normalise an Asaas (or Standard-Webhooks ``payment.*``) envelope; None = ignore."""
    payload = event.payload
    if event.provider is Provider.ASAAS:
        kind = ASAAS_KINDS.get(event.type)
        if kind is None:
            return None
        # The shared model ingress validated at the door: a value that is null, a string
        # or negative never reaches here from ingress, and a replayed old envelope that
        # carries one is refused (ValidationError: permanent, DLQ at once).
        payment = AsaasPayment.model_validate(payload.get("payment"))
        refund_total = None
        if kind == "refund":
            if payment.refunds:
                refund_total = sum(
                    brl_cents(r.value) for r in payment.refunds if r.status != "CANCELLED"
                )
            elif event.type == "PAYMENT_REFUNDED":
                refund_total = payment.value_cents
            else:
                raise ValidationFailed("partial refund without a refunds list")
        reference = payment.external_reference
        tenant_id = _resolve_tenant(event.tenant_id, reference)
        return PaymentSignal(
            tenant_id=tenant_id,
            provider="asaas",
            event_id=str(payload.get("id") or event.provider_event_id),
            payment_id=payment.id,
            kind=kind,
            value_cents=payment.value_cents,
            refund_total_cents=refund_total,
            customer=payment.customer,
            external_reference=reference,
            status=payment.status,
            correlation_id=event.correlation_id,
        )
    if event.provider is Provider.CUSTOM and event.type in CUSTOM_KINDS:
        data = payload.get("data", payload)
        kind = CUSTOM_KINDS[event.type]
        amount = int(data.get("amount_cents", 0))
        return PaymentSignal(
            tenant_id=_resolve_tenant(event.tenant_id, data.get("external_reference")),
            provider="custom",
            event_id=event.provider_event_id,
            payment_id=str(data["payment_id"]),
            kind=kind,
            value_cents=amount if kind == "credit" else int(data.get("payment_amount_cents", 0)),
            refund_total_cents=int(data.get("refunded_total_cents", amount))
            if kind == "refund"
            else None,
            correlation_id=event.correlation_id,
        )
    return None


def _resolve_tenant(route_tenant: str | None, reference: Any) -> str:
    referenced = _tenant_from_reference(reference)
    if route_tenant and referenced and referenced != route_tenant:
        # A payment for another tenant arriving on this tenant's route: never credit it.
        raise ValidationFailed(
            "payment externalReference names another tenant",
            details={"route": route_tenant, "reference": referenced},
        )
    tenant_id = route_tenant or referenced
    if tenant_id is None:
        raise ValidationFailed("payment without a tenant (route or externalReference)")
    return tenant_id


def _catch_up(record: PaymentRecord) -> tuple[PaymentRecord, list[NewEntry]]:
    """Entries that bring what was posted up to the record's targets."""
    entries: list[NewEntry] = []
    credited, debited = record.credited_cents, record.debited_cents
    ref = {"payment_id": record.payment_id, "provider": record.provider}
    key = f"{record.provider}:{record.payment_id}"
    if credited == 0 and record.credit_target_cents > 0:
        credited = record.credit_target_cents
        entries.append(
            NewEntry(
                business_id=f"payment:{key}",
                kind=EntryKind.PAYMENT_CREDIT,
                amount_cents=credited,
                description=f"Payment {record.payment_id}",
                reference=ref,
            )
        )
    wanted = credited if record.chargeback else min(record.refund_target_cents, credited)
    if wanted > debited:
        kind = EntryKind.PAYMENT_CHARGEBACK if record.chargeback else EntryKind.PAYMENT_REFUND
        label = "chargeback" if record.chargeback else "refund"
        entries.append(
            NewEntry(
                business_id=f"{label}:{key}:{wanted}",
                kind=kind,
                amount_cents=-(wanted - debited),
                description=f"{label.capitalize()} of payment {record.payment_id}",
                reference=ref,
            )
        )
        debited = wanted
    return record.model_copy(update={"credited_cents": credited, "debited_cents": debited}), entries


def handle_payment(deps: BillingDeps, signal: PaymentSignal) -> CallOutcome:
    """Record the event's targets on the payment and post what they newly require."""
    try:
        tenant = deps.tenant(signal.tenant_id)
    except NotFound:
        raise ValidationFailed(f"payment for unknown tenant {signal.tenant_id!r}") from None
    expected_customer = tenant.integrations.payment_customer_id
    if expected_customer and signal.customer and signal.customer != expected_customer:
        raise ValidationFailed("payment customer does not belong to the tenant")
    signal = verify_at_source(signal, deps.payment_source, expected_customer=expected_customer)

    def unit() -> CallOutcome:
        stored = deps.store.get_payment(signal.tenant_id, signal.provider, signal.payment_id)
        record = stored or PaymentRecord(
            tenant_id=signal.tenant_id, provider=signal.provider, payment_id=signal.payment_id
        )
        if signal.event_id in record.seen_event_ids:
            return CallOutcome("duplicate", flush=True)
        targets: dict[str, Any] = {
            "seen_event_ids": (*record.seen_event_ids, signal.event_id)[-MAX_SEEN_EVENTS:],
            "customer": record.customer or signal.customer,
            "last_status": signal.status or record.last_status,
            "version": record.version + 1,
        }
        if signal.kind == "credit":
            targets["credit_target_cents"] = max(record.credit_target_cents, signal.value_cents)
        elif signal.kind == "refund":
            targets["refund_target_cents"] = max(
                record.refund_target_cents, signal.refund_total_cents or 0
            )
        elif signal.kind == "chargeback":
            targets["chargeback"] = True
        updated, entries = _catch_up(record.model_copy(update=targets))
        if not entries:
            deps.store.commit(Transaction(tenant_id=signal.tenant_id, payment=updated))
            return CallOutcome("updated")
        balance = deps.store.get_balance(signal.tenant_id)
        events = [
            PaymentReceived(
                tenant_id=signal.tenant_id,
                correlation_id=signal.correlation_id,
                payment_id=signal.payment_id,
                provider=signal.provider,
                amount_cents=e.amount_cents,
            )
            for e in entries
            if e.kind is EntryKind.PAYMENT_CREDIT
        ]
        posted = post(
            balance,
            tenant.plan,
            entries,
            now=deps.clock(),
            correlation_id=signal.correlation_id,
            events=events,
        )
        deps.store.commit(
            Transaction(
                tenant_id=signal.tenant_id,
                balance=posted.balance,
                entries=posted.entries,
                applied=tuple(e.business_id for e in entries),
                payment=updated,
                outbox=posted.outbox,
            )
        )
        return CallOutcome("posted", flush=True, outbox=posted.outbox)

    outcome = run_unit(deps, unit)
    deps.fault("after_commit")
    if outcome.flush:
        flush_outbox(deps, signal.tenant_id, outcome.outbox)
    logger.info(
        "payment processed",
        extra={
            "tenant_id": signal.tenant_id,
            "payment": signal.payment_id,
            "result": outcome.status,
        },
    )
    return outcome
