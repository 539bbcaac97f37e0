"""Bodies and answers of the orders admin API (typed: they are the OpenAPI schemas)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.events import OrderStatus
from atende_shared.models.common import AwareDatetime
from functions.orders.models.notifications import (
    WEBHOOK_EVENT_TYPES,
    Delivery,
    DeliveryAttempt,
    DeliveryKind,
    DeliveryStatus,
    WebhookEndpoint,
    WebhookEventType,
)
from functions.orders.models.order import Order


class StatusChangeRequest(BaseModel):
    """``POST .../orders/{order_id}/status`` (``If-Match: "<version>"`` optional)."""

    model_config = ConfigDict(extra="forbid")

    status: OrderStatus
    reason: str | None = Field(None, max_length=500, description="required to refuse or cancel")


class DeliverySummary(BaseModel):
    """One message sent (or not) about an order."""

    delivery_id: str
    kind: DeliveryKind
    event_type: WebhookEventType
    target: str
    status: DeliveryStatus
    attempts: int
    reason: str | None = None
    updated_at: AwareDatetime

    @classmethod
    def of(cls, delivery: Delivery) -> DeliverySummary:
        return cls(
            delivery_id=delivery.delivery_id,
            kind=delivery.kind,
            event_type=delivery.event_type,
            target=delivery.target,
            status=delivery.status,
            attempts=len(delivery.attempts),
            reason=delivery.reason,
            updated_at=delivery.updated_at,
        )


class OrderView(Order):
    """An order as the API shows it: the record, what it may become, and what was sent."""

    allowed_transitions: list[OrderStatus] = Field(default_factory=list)
    notifications: list[DeliverySummary] | None = Field(
        None, description="messages about this order (single-order reads only)"
    )

    @classmethod
    def of(cls, order: Order, deliveries: list[Delivery] | None = None) -> OrderView:
        return cls(
            **order.model_dump(),
            allowed_transitions=list(order.allowed_next),
            notifications=[DeliverySummary.of(d) for d in deliveries]
            if deliveries is not None
            else None,
        )


class EndpointRequest(BaseModel):
    """``POST .../order-webhooks``: where to send which order events."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2_048)
    events: list[WebhookEventType] = Field(
        default_factory=lambda: list(WEBHOOK_EVENT_TYPES), min_length=1
    )
    description: str | None = Field(None, max_length=200)


class EndpointView(BaseModel):
    endpoint_id: str
    url: str
    events: list[WebhookEventType]
    description: str | None = None
    created_at: AwareDatetime

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointView:
        return cls(**endpoint.model_dump(exclude={"secret", "tenant_id"}))


class EndpointCreated(EndpointView):
    secret: str = Field(description="the Standard Webhooks signing secret; shown only once")


class EndpointDeleted(BaseModel):
    deleted: str


class EndpointList(BaseModel):
    items: list[EndpointView]


class DeliveryView(DeliverySummary):
    order_id: str
    url: str | None = None
    body: str
    attempt_log: list[DeliveryAttempt]
    replays: int = 0
    created_at: AwareDatetime

    @classmethod
    def full(cls, delivery: Delivery) -> DeliveryView:
        return cls(
            **DeliverySummary.of(delivery).model_dump(),
            order_id=delivery.order_id,
            url=delivery.url,
            body=delivery.body,
            attempt_log=list(delivery.attempts),
            replays=delivery.replays,
            created_at=delivery.created_at,
        )
