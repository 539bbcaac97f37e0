"""Asaas payments as the platform reads them, in one place: webhook ingress validates a
delivery's ``payment`` with :class:`AsaasPayment` (422 to the sender when it cannot be
credited), billing reads the same model, and billing's verification reads Asaas' own
``GET /v3/payments/{id}`` answer with it too.

Source: Asaas webhook payload for payments (docs.asaas.com "Payment events" / the
``PaymentGetResponseDTO`` schema): ``{object: "payment", id: "pay_...", customer: "cus_...",
value: <number>, netValue, status: "RECEIVED" | "CONFIRMED" | ..., externalReference,
deleted, refunds: [{value, status}] ...}``; BRL amounts are JSON numbers.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

BalanceEffect = Literal["credit", "refund", "chargeback"]

#: The Asaas events that move a prepaid balance; every other event is acknowledged and
#: ignored (200 at the door, never a 4xx that would pause the tenant's Asaas queue).
ASAAS_BALANCE_EVENTS: dict[str, BalanceEffect] = {
    "PAYMENT_RECEIVED": "credit",
    "PAYMENT_CONFIRMED": "credit",
    "PAYMENT_RECEIVED_IN_CASH": "credit",
    "PAYMENT_REFUNDED": "refund",
    "PAYMENT_PARTIALLY_REFUNDED": "refund",
    "PAYMENT_CHARGEBACK_REQUESTED": "chargeback",
}

#: Payment statuses under which Asaas holds the money (a credit may be posted).
PAID_STATUSES = frozenset({"RECEIVED", "CONFIRMED", "RECEIVED_IN_CASH"})

#: A BRL amount: a JSON number (never a string, a boolean or null), finite, not negative.
Brl = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False, le=1e12)]


def brl_cents(value: float) -> int:
    """BRL → integer cents through ``str`` so 10.1 is 1010, not 1009."""
    return int((Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


class AsaasRefund(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    value: Brl
    status: str | None = None


class AsaasPayment(BaseModel):
    """A payment (``payment`` of a webhook, or the body of ``GET /v3/payments/{id}``)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    id: str = Field(min_length=1, max_length=128)
    value: Brl
    customer: str | None = Field(None, max_length=128)
    status: str | None = Field(None, max_length=64)
    external_reference: str | None = Field(None, alias="externalReference", max_length=512)
    deleted: bool = False
    refunds: list[AsaasRefund] | None = Field(None, max_length=1_000)

    @property
    def value_cents(self) -> int:
        return brl_cents(self.value)
