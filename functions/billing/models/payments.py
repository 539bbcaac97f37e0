"""What billing remembers about one provider payment (item ``PAYMENT#<provider>#<id>``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import TenantId


class PaymentRecord(BaseModel):
    """Targets learned from events, and how much has actually been posted.

    Events only raise targets (``credit_target``, ``refund_target``, ``chargeback``); the
    posted amounts catch up with them in one transaction. So a refund that arrives before
    its payment, a duplicate, or confirmed+received all converge to the same ledger.
    """

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    provider: str
    payment_id: str = Field(min_length=1, max_length=128)
    version: int = Field(0, ge=0)
    seen_event_ids: tuple[str, ...] = ()
    customer: str | None = None
    credit_target_cents: int = Field(0, ge=0)
    refund_target_cents: int = Field(0, ge=0)
    chargeback: bool = False
    credited_cents: int = Field(0, ge=0)
    debited_cents: int = Field(0, ge=0)
    last_status: str | None = None


class PaymentSignal(BaseModel):
    """One payment event, provider-neutral."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    provider: str
    event_id: str
    payment_id: str
    kind: str = Field(description="credit | refund | chargeback | ignore")
    value_cents: int = Field(0, ge=0, description="payment value")
    refund_total_cents: int | None = Field(None, ge=0, description="cumulative refunded")
    customer: str | None = None
    external_reference: str | None = None
    status: str | None = None
    correlation_id: str = "-"
