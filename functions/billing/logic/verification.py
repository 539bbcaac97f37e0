"""Verify a payment at its source before any credit.

A webhook token proves only that the sender knew the token. When the tenant's Asaas API
key is configured, billing asks Asaas itself (``GET /v3/payments/{id}``) and credits only
a payment that exists, is not deleted, belongs to the tenant's customer, has the value the
event claims and is paid; the credited value is the one Asaas answered. So a leaked
webhook token alone cannot create balance. Without an API key the event is applied as
received (and logged as unverified).

Failures are classified for the consumer (``atende_shared.consumers``): a payment Asaas
does not know, a deleted one, another customer's, or a different value can never be
credited (:class:`PermanentFailure`: DLQ at once, with the reason); Asaas unreachable, the
key refused, or a payment not yet paid at the source may succeed later (transient: retried,
then the DLQ by redrive).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from atende_shared.errors import DependencyUnavailable, PermanentFailure
from atende_shared.models.asaas import PAID_STATUSES, AsaasPayment
from atende_shared.observability import logger
from functions.billing.models.payments import PaymentSignal

#: Statuses of a payment that was paid at some point (a credit for it is legitimate even
#: if a refund or chargeback followed; those arrive as their own events).
WAS_PAID = PAID_STATUSES | {
    "REFUNDED",
    "REFUND_REQUESTED",
    "REFUND_IN_PROGRESS",
    "CHARGEBACK_REQUESTED",
    "CHARGEBACK_DISPUTE",
    "AWAITING_CHARGEBACK_REVERSAL",
    "DUNNING_RECEIVED",
}


@dataclass(frozen=True)
class SourceAnswer:
    """What the payment source said. ``configured`` False: the tenant has no API key."""

    configured: bool
    payment: AsaasPayment | None = None


class PaymentSource(Protocol):
    """Reads one payment from the provider's own API with the tenant's key."""

    def lookup(self, tenant_id: str, payment_id: str) -> SourceAnswer:
        """Raises :class:`DependencyUnavailable` when the source cannot answer now."""
        ...


class NoPaymentSource:
    """No verification configured anywhere (tests of other behaviour, local without keys)."""

    def lookup(self, tenant_id: str, payment_id: str) -> SourceAnswer:
        return SourceAnswer(configured=False)


def verify_at_source(
    signal: PaymentSignal, source: PaymentSource, *, expected_customer: str | None
) -> PaymentSignal:
    """The signal as Asaas confirms it (value from the source), or raise."""
    if signal.provider != "asaas":
        return signal
    answer = source.lookup(signal.tenant_id, signal.payment_id)
    if not answer.configured:
        logger.info(
            "payment not verified at the source: the tenant has no Asaas API key",
            extra={"tenant_id": signal.tenant_id, "payment": signal.payment_id},
        )
        return signal
    payment = answer.payment
    if payment is None:
        raise PermanentFailure(
            "payment_not_found_at_source", f"Asaas does not know payment {signal.payment_id}"
        )
    if payment.deleted:
        raise PermanentFailure("payment_deleted_at_source", "the payment is deleted at Asaas")
    owners = {c for c in (signal.customer, expected_customer) if c}
    if (
        payment.customer is None
        or (owners and payment.customer not in owners)
        or (signal.customer and expected_customer and signal.customer != expected_customer)
    ):
        raise PermanentFailure(
            "customer_mismatch_at_source",
            "the payment does not belong to the tenant's customer",
            details={"source_customer": payment.customer},
        )
    if signal.kind != "credit":
        return signal.model_copy(update={"customer": payment.customer})
    if payment.value_cents != signal.value_cents:
        raise PermanentFailure(
            "value_mismatch_at_source",
            f"the event says {signal.value_cents} cents, Asaas says {payment.value_cents}",
        )
    if payment.status not in WAS_PAID:
        raise DependencyUnavailable(
            f"payment {signal.payment_id} is {payment.status} at Asaas, not paid (yet)"
        )
    return signal.model_copy(
        update={"value_cents": payment.value_cents, "customer": payment.customer}
    )
