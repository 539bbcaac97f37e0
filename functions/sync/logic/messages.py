"""Inbound WhatsApp messages: kept against the tenant, once, never our own echoes.

The gateway's JSON is read with the shared :mod:`atende_shared.models.whatsapp_inbound`
(the one reading of Z-API and Evolution payloads)."""

from __future__ import annotations

from typing import Any, Protocol

from atende_shared.errors import MalformedRequest, PermanentFailure
from atende_shared.models.envelope import InboundEvent
from atende_shared.models.whatsapp_inbound import inbound_message


class MessageLog(Protocol):
    def record(self, tenant_id: str, message_id: str, data: dict[str, Any]) -> bool:
        """False when the message was already recorded."""
        ...


def record_message(event: InboundEvent, *, log: MessageLog) -> str:
    if event.tenant_id is None:
        raise MalformedRequest("message without a tenant")
    message = inbound_message(event)
    if message is None:
        raise PermanentFailure("not_a_message", f"{event.provider} {event.type} is no message")
    # Gateways echo what we send with fromMe: true; those are not customer messages.
    if message.from_me:
        return "ignored_own"
    fresh = log.record(
        event.tenant_id,
        f"{event.provider.value}#{event.provider_event_id}",
        {
            "provider": event.provider.value,
            "type": event.type,
            "phone": message.sender_phone,
            "chat": message.chat_id,
            "is_group": message.is_group,
            "text": message.text,
            "occurred_at": event.occurred_at.isoformat(),
            "correlation_id": event.correlation_id,
        },
    )
    return "recorded" if fresh else "duplicate"
