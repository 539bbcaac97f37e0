"""The order record, its lifecycle table and its status history."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.events import (
    OrderAddress,
    OrderChannel,
    OrderLine,
    OrderPayment,
    OrderPlaced,
    OrderStatus,
)
from atende_shared.models.common import AwareDatetime, Cents, TenantId, utc_now

Fulfilment = Literal["pickup", "delivery"]

#: The lifecycle. ``out_for_delivery`` only for delivery orders; ``refused``/``cancelled``
#: end it from any non-final state (refused only before the kitchen accepted).
TRANSITIONS: dict[OrderStatus, tuple[OrderStatus, ...]] = {
    "received": ("accepted", "refused", "cancelled"),
    "accepted": ("preparing", "ready", "cancelled"),
    "preparing": ("ready", "cancelled"),
    "ready": ("out_for_delivery", "completed", "cancelled"),
    "out_for_delivery": ("completed", "cancelled"),
    "completed": (),
    "refused": (),
    "cancelled": (),
}
FINAL_STATUSES: frozenset[OrderStatus] = frozenset({"completed", "refused", "cancelled"})


def allowed_next(status: OrderStatus, fulfilment: Fulfilment) -> tuple[OrderStatus, ...]:
    """The statuses an order in ``status`` may move to (pickup orders skip delivery)."""
    nexts = TRANSITIONS[status]
    if fulfilment == "pickup":
        return tuple(s for s in nexts if s != "out_for_delivery")
    return nexts


class StatusChange(BaseModel):
    """One entry of the status history: who changed what and when."""

    model_config = ConfigDict(frozen=True)

    from_status: OrderStatus | None = None
    to_status: OrderStatus
    version: int = Field(ge=1)
    at: AwareDatetime
    actor: str = Field(max_length=200)
    reason: str | None = Field(None, max_length=500)


class Customer(BaseModel):
    model_config = ConfigDict(frozen=True)

    name: str | None = None
    phone: str | None = None


class Order(BaseModel):
    """Item ``ORDER#<order_id>``: one per order id, whatever the deliveries."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    order_id: str = Field(min_length=1, max_length=200)
    order_number: int = Field(ge=1, description="the kitchen's number, sequential per tenant")
    channel: OrderChannel = "voice"
    call_id: str | None = None
    conversation_id: str | None = None
    customer: Customer = Field(default_factory=Customer)
    lines: list[OrderLine]
    subtotal_cents: Cents
    delivery_fee_cents: Cents = 0
    total_cents: Cents
    fulfilment: Fulfilment
    address: OrderAddress | None = None
    payment: OrderPayment | None = None
    notes: str | None = None
    language: str | None = None
    estimated_minutes: int | None = None
    status: OrderStatus = "received"
    status_reason: str | None = None
    version: int = Field(1, ge=1)
    history: list[StatusChange] = Field(default_factory=list)
    placed_at: AwareDatetime
    updated_at: AwareDatetime = Field(default_factory=utc_now)
    correlation_id: str = "-"
    #: Set once the ``received`` status change was published (a redelivery re-publishes
    #: until it is, so the announcement is never lost between the write and the publish).
    announced: bool = False
    #: Acceptance-window reminder sent (then the tenant's timeout action is due).
    reminded_at: AwareDatetime | None = None

    @classmethod
    def from_event(cls, event: OrderPlaced, *, number: int) -> Order:
        """The new record for ``event`` (status ``received``, version 1)."""
        return cls(
            tenant_id=event.tenant_id,
            order_id=event.order_id,
            order_number=number,
            channel=event.channel,
            call_id=event.call_id,
            conversation_id=event.conversation_id,
            customer=Customer(name=event.customer_name, phone=event.customer_phone),
            lines=list(event.lines),
            subtotal_cents=event.subtotal_cents or 0,
            delivery_fee_cents=event.delivery_fee_cents,
            total_cents=event.total_cents,
            fulfilment=event.fulfilment,
            address=event.address,
            payment=event.payment,
            notes=event.notes,
            language=event.language,
            estimated_minutes=event.estimated_minutes,
            placed_at=event.occurred_at,
            updated_at=event.occurred_at,
            correlation_id=event.correlation_id,
            history=[
                StatusChange(
                    to_status="received",
                    version=1,
                    at=event.occurred_at,
                    actor=f"{event.channel}-agent",
                )
            ],
        )

    @property
    def allowed_next(self) -> tuple[OrderStatus, ...]:
        return allowed_next(self.status, self.fulfilment)
