"""Inbound WhatsApp messages: kept against the tenant, once, never our own echoes."""

from __future__ import annotations

from typing import Any, Protocol

from atende_shared.errors import MalformedRequest
from atende_shared.models.envelope import InboundEvent


class MessageLog(Protocol):
    def record(self, tenant_id: str, message_id: str, data: dict[str, Any]) -> bool:
        """False when the message was already recorded."""
        ...


def _from_me(payload: dict[str, Any]) -> bool:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    key = (data or {}).get("key") or {}
    return bool(payload.get("fromMe") or key.get("fromMe"))


def _text(payload: dict[str, Any]) -> str:
    text = payload.get("text")
    if isinstance(text, dict):
        return str(text.get("message", ""))[:4_000]
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    message = (data or {}).get("message") or {}
    return str(message.get("conversation") or "")[:4_000]


def _phone(payload: dict[str, Any]) -> str:
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    key = (data or {}).get("key") or {}
    return str(payload.get("phone") or key.get("remoteJid") or "")[:64]


def record_message(event: InboundEvent, *, log: MessageLog) -> str:
    if event.tenant_id is None:
        raise MalformedRequest("message without a tenant")
    # Gateways echo what we send with fromMe: true; those are not customer messages.
    if _from_me(event.payload):
        return "ignored_own"
    fresh = log.record(
        event.tenant_id,
        f"{event.provider.value}#{event.provider_event_id}",
        {
            "provider": event.provider.value,
            "type": event.type,
            "phone": _phone(event.payload),
            "text": _text(event.payload),
            "occurred_at": event.occurred_at.isoformat(),
            "correlation_id": event.correlation_id,
        },
    )
    return "recorded" if fresh else "duplicate"
