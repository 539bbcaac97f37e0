"""The internal event catalog: EventBridge detail-types and their pydantic schemas.

Every domain event is published on the custom bus with ``source = "atende"``, the
class's ``detail_type`` and a JSON ``detail`` produced by the model. Consumers parse the
detail back with :func:`parse_event`. A new event is one class here plus a line in
``EVENT_TYPES``; docs/architecture.md lists who publishes and who subscribes.
"""

from __future__ import annotations

import uuid
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atende_shared.models.common import AwareDatetime, Cents, SignedCents, TenantId, utc_now
from atende_shared.resources import EVENT_SOURCE


class DomainEvent(BaseModel):
    """Fields every event carries."""

    model_config = ConfigDict(frozen=True)

    detail_type: ClassVar[str]

    event_id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    tenant_id: TenantId
    correlation_id: str = Field(min_length=1, max_length=128)
    occurred_at: AwareDatetime = Field(default_factory=utc_now)
    schema_version: int = 1


class CallStarted(DomainEvent):
    detail_type: ClassVar[str] = "CallStarted"
    call_id: str
    room_name: str
    caller_number: str | None = None
    dialled_number: str | None = None


class CallEnded(DomainEvent):
    detail_type: ClassVar[str] = "CallEnded"
    call_id: str
    duration_seconds: int = Field(ge=0)
    billed_seconds: int = Field(ge=0)
    amount_cents: Cents
    end_reason: str = "hangup"


class OrderModifier(BaseModel):
    """A modifier chosen on a line ("Borda catupiry", "Adicional bacon"), priced from the menu."""

    model_config = ConfigDict(frozen=True)

    modifier_id: str
    group_id: str | None = None
    name: str
    quantity: int = Field(1, ge=1, le=20)
    price_delta_cents: SignedCents = 0


class OrderFlavour(BaseModel):
    """One flavour of a fractional item (a half of a "meio a meio" pizza)."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    name: str


class OrderLine(BaseModel):
    """One line as the agent priced it from the menu (integer cents, never from the LLM).

    ``unit_price_cents`` already includes the flavours' pricing rule and the modifiers'
    deltas; ``line_total_cents`` = unit price x quantity.
    """

    model_config = ConfigDict(frozen=True)

    item_id: str
    option_id: str | None = None
    name: str
    quantity: int = Field(ge=1, le=100)
    unit_price_cents: Cents
    line_total_cents: Cents
    flavours: list[OrderFlavour] = Field(default_factory=list, max_length=4)
    modifiers: list[OrderModifier] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(None, max_length=200)


class OrderAddress(BaseModel):
    """A structured delivery address; ``raw`` keeps the customer's own words."""

    model_config = ConfigDict(frozen=True)

    raw: str = Field("", max_length=500)
    street: str | None = Field(None, max_length=200)
    number: str | None = Field(None, max_length=20)
    complement: str | None = Field(None, max_length=100)
    neighbourhood: str | None = Field(None, max_length=100)
    postal_code: str | None = Field(None, max_length=9, description="CEP, digits only or 00000-000")
    city: str | None = Field(None, max_length=100)
    reference: str | None = Field(None, max_length=200)


PaymentMethod = Literal["cash", "credit_card", "debit_card", "card", "pix", "unknown"]


class OrderPayment(BaseModel):
    """How the customer pays on delivery or pickup."""

    model_config = ConfigDict(frozen=True)

    method: PaymentMethod = "unknown"
    change_for_cents: Cents | None = Field(None, description="cash: the note to bring change for")


OrderChannel = Literal["voice", "whatsapp"]


class OrderPlaced(DomainEvent):
    """An order the customer confirmed (voice or WhatsApp).

    Schema 2 added the channel, customer name, structured address, payment, fees, notes and
    per-line flavours/modifiers. Schema-1 events (no ``subtotal_cents``) still validate: the
    subtotal defaults to the total and the fee to zero.
    """

    detail_type: ClassVar[str] = "OrderPlaced"
    schema_version: int = 2
    order_id: str
    #: The kitchen's number, allocated by the channel at confirmation (so the caller hears
    #: it) through ``atende_shared.dal.order_numbers``; the orders domain allocates one when
    #: an event arrives without it (schema 1).
    order_number: int | None = Field(None, ge=1)
    call_id: str | None = None
    channel: OrderChannel = "voice"
    conversation_id: str | None = Field(None, max_length=200, description="WhatsApp chat id")
    lines: list[OrderLine] = Field(min_length=1)
    subtotal_cents: Cents | None = None
    delivery_fee_cents: Cents = 0
    total_cents: Cents
    fulfilment: Literal["pickup", "delivery"]
    delivery_address: str | None = None
    address: OrderAddress | None = None
    customer_phone: str | None = None
    customer_name: str | None = Field(None, max_length=120)
    payment: OrderPayment | None = None
    notes: str | None = Field(None, max_length=500)
    language: str | None = Field(None, max_length=16, description="the customer's language")
    estimated_minutes: int | None = Field(None, ge=0, le=600)

    @model_validator(mode="after")
    def _v1_defaults(self) -> OrderPlaced:
        if self.subtotal_cents is None:
            object.__setattr__(self, "subtotal_cents", self.total_cents - self.delivery_fee_cents)
        if self.address is None and self.delivery_address:
            object.__setattr__(self, "address", OrderAddress(raw=self.delivery_address))
        return self


OrderStatus = Literal[
    "received",
    "accepted",
    "preparing",
    "ready",
    "out_for_delivery",
    "completed",
    "refused",
    "cancelled",
]


class OrderStatusChanged(DomainEvent):
    """An order moved through its lifecycle (published by the orders domain)."""

    detail_type: ClassVar[str] = "OrderStatusChanged"
    order_id: str
    order_number: int = Field(ge=1)
    channel: OrderChannel = "voice"
    previous_status: OrderStatus | None = None
    status: OrderStatus
    version: int = Field(ge=1)
    reason: str | None = Field(None, max_length=500)
    actor: str = Field("system", max_length=200, description="who changed it")
    fulfilment: Literal["pickup", "delivery"] = "pickup"
    customer_phone: str | None = None


class CallUsageReported(DomainEvent):
    detail_type: ClassVar[str] = "CallUsageReported"
    call_id: str
    stt_audio_seconds: float = Field(ge=0)
    llm_prompt_tokens: int = Field(ge=0)
    llm_completion_tokens: int = Field(ge=0)
    tts_characters: int = Field(ge=0)
    models: dict[str, str] = Field(default_factory=dict)
    # Added by the voice agent (optional, so older producers still validate): how the call
    # ended and a one-line summary, for billing to keep on the call session.
    outcome: str | None = Field(None, max_length=64)
    summary: str | None = Field(None, max_length=500)


class PaymentReceived(DomainEvent):
    detail_type: ClassVar[str] = "PaymentReceived"
    payment_id: str
    provider: str
    amount_cents: SignedCents


class BalanceLow(DomainEvent):
    detail_type: ClassVar[str] = "BalanceLow"
    balance_cents: SignedCents
    threshold_cents: Cents


class TenantSuspended(DomainEvent):
    detail_type: ClassVar[str] = "TenantSuspended"
    reason: Literal["balance_exhausted", "admin"]
    balance_cents: SignedCents | None = None


class TenantResumed(DomainEvent):
    detail_type: ClassVar[str] = "TenantResumed"
    reason: Literal["top_up", "admin"]


class CatalogChanged(DomainEvent):
    detail_type: ClassVar[str] = "CatalogChanged"
    source: str
    items_upserted: int = Field(ge=0)
    items_removed: int = Field(ge=0)
    menu_version: str


EVENT_TYPES: dict[str, type[DomainEvent]] = {
    cls.detail_type: cls
    for cls in (
        CallStarted,
        CallEnded,
        OrderPlaced,
        OrderStatusChanged,
        CallUsageReported,
        PaymentReceived,
        BalanceLow,
        TenantSuspended,
        TenantResumed,
        CatalogChanged,
    )
}


class UnknownEventType(ValueError):
    """A detail-type that is not in the catalog."""


def to_put_events_entry(event: DomainEvent, *, bus_name: str) -> dict[str, Any]:
    """The ``PutEvents`` entry for ``event`` on ``bus_name``."""
    return {
        "Source": EVENT_SOURCE,
        "DetailType": event.detail_type,
        "Detail": event.model_dump_json(),
        "EventBusName": bus_name,
    }


def parse_event(detail_type: str, detail: dict[str, Any] | str) -> DomainEvent:
    """Parse an EventBridge detail into its catalog model (raises on unknown/invalid)."""
    model = EVENT_TYPES.get(detail_type)
    if model is None:
        raise UnknownEventType(f"unknown detail-type {detail_type!r}")
    if isinstance(detail, str):
        return model.model_validate_json(detail)
    return model.model_validate(detail)
