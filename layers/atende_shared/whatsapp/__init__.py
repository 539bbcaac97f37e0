"""Sending WhatsApp text messages through a tenant's gateway (Z-API or Evolution API).

The contract every sender honours; the Z-API and Evolution clients, their retries and
circuit breaker, and :func:`sender_for_tenant` live in this package. The orders domain
(notifications) and the WhatsApp conversation handler both send through it, so a reply and
a notification are recorded and recognised the same way when their echo (``fromMe``) returns.
"""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import TenantId

Gateway = Literal["zapi", "evolution"]


class OutboundText(BaseModel):
    """One text message to one WhatsApp recipient."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    to: str = Field(min_length=8, max_length=64, description="E.164 phone or a chat id")
    text: str = Field(min_length=1, max_length=4_096)
    #: Stable per logical message (e.g. ``order:<id>:accepted``): a retry never sends twice.
    idempotency_key: str = Field(min_length=1, max_length=200)
    correlation_id: str = Field("-", min_length=1, max_length=128)


class SendResult(BaseModel):
    """What the gateway answered for a message it accepted."""

    model_config = ConfigDict(frozen=True)

    gateway: Gateway
    message_id: str | None = None


class WhatsAppSendError(Exception):
    """The gateway did not take the message. ``transient`` failures are worth retrying
    (timeouts, 429, 5xx, an open circuit); permanent ones (401/403, 4xx, no gateway
    configured) go to the DLQ at once with the reason."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient


class WhatsAppSender(Protocol):
    def send_text(self, message: OutboundText) -> SendResult: ...
