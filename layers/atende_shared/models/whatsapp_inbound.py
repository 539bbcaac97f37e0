"""One inbound WhatsApp message, whatever the gateway: the one reading of Z-API and
Evolution API webhook payloads, shared by ingress (echo / ignore decisions) and every
consumer of the ``messaging`` queue (the envelope's payload is the gateway's JSON;
:func:`inbound_message` reads it).

Sources, quoted in ``tests/webhooks/test_real_senders.py``:

- Z-API "On receive" (developer.z-api.io/en/webhooks/on-message-received): ``type``
  ``"ReceivedCallback"`` (the attribute table spells it ``"ReceivedCallBack"``: both are
  read), ``phone`` = "Phone number or group that sent the message", ``participantPhone`` =
  "Phone number of the group member who sent the message", ``isGroup``, ``fromMe``,
  ``messageId``, ``momment`` (epoch ms), ``senderName``, ``text.message``,
  ``image.caption``...
- Evolution API v2 ``messages.upsert`` (doc.evolution-api.com): ``data.key.{remoteJid,
  fromMe, id, participant}``, ``data.pushName``, ``data.message.conversation`` or
  ``data.message.extendedTextMessage.text`` (a reply, a link preview...),
  ``data.messageTimestamp`` (epoch s).

``fromMe`` is read as a boolean whatever its JSON spelling (``false``, ``"false"``, ``0``):
a string ``"false"`` is *not* an echo.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from atende_shared.models.envelope import InboundEvent, Provider

Gateway = Literal["zapi", "evolution"]

ZAPI_RECEIVED = "receivedcallback"  # compared case-insensitively: ReceivedCallback / CallBack
_BOOL = TypeAdapter(bool)


class InboundMessage(BaseModel):
    """A message a customer (or, when ``from_me``, the restaurant's own phone) sent."""

    model_config = ConfigDict(frozen=True)

    gateway: Gateway
    message_id: str = Field(min_length=1, max_length=256)
    chat_id: str = Field(description="the conversation: the customer's phone or a group id")
    sender_phone: str = Field(description="who wrote it: the group member in a group")
    is_group: bool = False
    from_me: bool = False
    text: str = Field("", max_length=4_096)
    sender_name: str | None = None
    at: datetime | None = None


def flag(value: Any) -> bool:
    """A JSON boolean in any of the spellings gateways use (``true``, ``"false"``, ``1``);
    anything unreadable is False."""
    if value is None:
        return False
    try:
        return _BOOL.validate_python(value)
    except ValidationError:
        return False


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any, limit: int = 4_096) -> str:
    return value[:limit] if isinstance(value, str) else ""


def _phone(jid: Any) -> str:
    """``5511999990000@s.whatsapp.net`` → ``5511999990000`` (group ids keep ``@g.us``)."""
    text = _text(jid, 128)
    return text.removesuffix("@s.whatsapp.net").removesuffix("@c.us")


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, dict):  # protobuf Long {low, high, unsigned} (older Baileys)
        value = value.get("low")
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if number > 10**11 else number, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def zapi_is_message(data: Any) -> bool:
    """Whether a Z-API callback is an inbound-message callback (either spelling)."""
    return isinstance(data, dict) and _text(data.get("type"), 64).lower() == ZAPI_RECEIVED


def from_zapi(data: Any) -> InboundMessage | None:
    """A Z-API ``ReceivedCallback``, or None for any other callback."""
    if not zapi_is_message(data) or not data.get("messageId"):
        return None
    is_group = flag(data.get("isGroup"))
    chat = _text(data.get("phone"), 128)
    participant = _text(data.get("participantPhone"), 128)
    text_block = _obj(data.get("text"))
    text = _text(text_block.get("message"))
    if not text:
        for media in ("image", "video", "document"):
            block = data.get(media)
            if isinstance(block, dict) and isinstance(block.get("caption"), str):
                text = _text(block["caption"])
                break
    return InboundMessage(
        gateway="zapi",
        message_id=_text(data.get("messageId"), 256),
        chat_id=chat,
        sender_phone=participant if is_group and participant else chat,
        is_group=is_group,
        from_me=flag(data.get("fromMe")),
        text=text,
        sender_name=_text(data.get("senderName"), 256) or _text(data.get("chatName"), 256) or None,
        at=_epoch(data.get("momment")),
    )


def evolution_event_name(event: Any) -> str:
    """``MESSAGES_UPSERT`` (per-event webhooks), ``messages-upsert`` (its URL) and
    ``messages.upsert`` are one event: ``messages.upsert``."""
    return _text(event, 64).lower().replace("_", ".").replace("-", ".")


def from_evolution(body: Any) -> InboundMessage | None:
    """An Evolution ``messages.upsert``, or None for any other event."""
    if not isinstance(body, dict) or evolution_event_name(body.get("event")) != "messages.upsert":
        return None
    raw = body.get("data")
    if isinstance(raw, list):  # some versions wrap the message in a one-element list
        raw = raw[0] if raw else None
    if not isinstance(raw, dict):
        return None
    data: dict[str, Any] = raw
    key = _obj(data.get("key"))
    message_id = _text(key.get("id"), 256)
    chat = _text(key.get("remoteJid"), 128)
    if not message_id or not chat:
        return None
    is_group = chat.endswith("@g.us")
    participant = _phone(key.get("participant"))
    message = _obj(data.get("message"))
    extended = message.get("extendedTextMessage")
    text = _text(message.get("conversation"))
    if not text and isinstance(extended, dict):
        text = _text(extended.get("text"))
    if not text:
        for media in ("imageMessage", "videoMessage", "documentMessage"):
            block = message.get(media)
            if isinstance(block, dict) and isinstance(block.get("caption"), str):
                text = _text(block["caption"])
                break
    return InboundMessage(
        gateway="evolution",
        message_id=message_id,
        chat_id=_phone(chat),
        sender_phone=participant if is_group and participant else _phone(chat),
        is_group=is_group,
        from_me=flag(key.get("fromMe")),
        text=text,
        sender_name=_text(data.get("pushName"), 256) or None,
        at=_epoch(data.get("messageTimestamp")),
    )


def inbound_message(event: InboundEvent) -> InboundMessage | None:
    """The message in a ``messaging`` envelope, or None when it carries none."""
    if event.provider is Provider.ZAPI:
        return from_zapi(event.payload)
    if event.provider is Provider.EVOLUTION:
        return from_evolution(event.payload)
    return None
