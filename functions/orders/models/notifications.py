"""Who is told about an order: webhook endpoints, deliveries and their attempts."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId, utc_now

#: Events an endpoint may subscribe to (the ``type`` field of the delivered body).
WebhookEventType = Literal["order.placed", "order.status_changed", "order.reminder"]
WEBHOOK_EVENT_TYPES: tuple[WebhookEventType, ...] = (
    "order.placed",
    "order.status_changed",
    "order.reminder",
)

DeliveryKind = Literal["webhook", "whatsapp"]
DeliveryStatus = Literal["pending", "delivered", "failed", "skipped"]


class WebhookEndpoint(BaseModel):
    """Item ``WEBHOOK#<endpoint_id>``. The signing secret is returned once, at creation."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    endpoint_id: str
    url: str
    events: list[WebhookEventType]
    description: str | None = None
    secret: str = Field(repr=False, description="whsec_<base64>, Standard Webhooks")
    created_at: AwareDatetime = Field(default_factory=utc_now)


class DeliveryAttempt(BaseModel):
    model_config = ConfigDict(frozen=True)

    attempt: int = Field(ge=1)
    at: AwareDatetime
    ok: bool
    status_code: int | None = None
    error: str | None = Field(None, max_length=500)
    transient: bool | None = None


class Delivery(BaseModel):
    """Item ``NOTIFY#<order_id>#<name>``: one message to one recipient about one order event.

    ``name`` is ``v<version>:<target>`` for a status change (``target`` is ``wh-<endpoint>``,
    ``wa-restaurant`` or ``wa-customer``) or ``reminder:<target>``; the pair is the
    idempotency key (a redelivered event never creates a second delivery), the Standard
    Webhooks ``webhook-id`` and the WhatsApp sender's idempotency key.
    """

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    order_id: str
    name: str
    kind: DeliveryKind
    event_type: WebhookEventType
    target: str = Field(description="endpoint id or the phone number")
    url: str | None = None
    body: str = Field(description="the JSON body (webhook) or the text (WhatsApp)")
    status: DeliveryStatus = "pending"
    attempts: list[DeliveryAttempt] = Field(default_factory=list)
    reason: str | None = None
    created_at: AwareDatetime = Field(default_factory=utc_now)
    updated_at: AwareDatetime = Field(default_factory=utc_now)
    correlation_id: str = "-"
    replays: int = 0

    @property
    def delivery_id(self) -> str:
        return delivery_id(self.order_id, self.name)


def delivery_id(order_id: str, name: str) -> str:
    """The opaque, URL-safe id of a delivery (the API's path parameter)."""
    raw = f"{order_id}\n{name}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_delivery_id(value: str) -> tuple[str, str] | None:
    """``(order_id, name)`` of an id from :func:`delivery_id`, None when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    order_id, sep, name = raw.partition("\n")
    return (order_id, name) if sep and order_id and name else None


class DeliveryJob(BaseModel):
    """The notifications queue's own message: try one delivery (attempt ``attempt``)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["delivery"] = "delivery"
    tenant_id: TenantId
    order_id: str
    name: str
    attempt: int = Field(1, ge=1)
    correlation_id: str = "-"
