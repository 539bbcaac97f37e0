"""The gateways' inbound message payloads, normalised into :class:`InboundMessage`.

**Z-API** ``ReceivedCallback`` (``Z-API/z-api-docs`` ``docs/webhooks/on-message-received.md``):
``phone`` (the chat: the customer, or the group), ``isGroup``, ``participantPhone`` (the
group member), ``senderLid``/``chatLid`` (``...@lid``), ``fromMe``, ``fromApi``,
``messageId``, ``senderName``, and one content object: ``text.message``, ``image.caption``,
``audio``, ``video``, ``document``, ``sticker``, ``contact.displayName``, ``location``
(``latitude``, ``longitude``, ``name``, ``address``), ``reaction``,
``buttonsResponseMessage.message``, ``listResponseMessage.message``.

**Evolution API** ``messages.upsert`` (v1 and v2 carry the Baileys message): ``data.key``
(``remoteJid`` — ``<digits>@s.whatsapp.net``, ``<id>@g.us`` for groups, ``<id>@lid`` —,
``fromMe``, ``id``, ``participant``; ``remoteJidAlt``/``senderPn`` carry the phone of a
``@lid`` since v2.3, see evolution-api PR #1955 and issues #1778, #2217), ``data.pushName``
and ``data.message``: ``conversation``, ``extendedTextMessage.text``,
``imageMessage.caption``, ``audioMessage``, ``videoMessage``, ``documentMessage``,
``stickerMessage``, ``locationMessage`` (``degreesLatitude``, ``degreesLongitude``,
``name``, ``address``), ``contactMessage``, ``reactionMessage``.

Gateways are loose with types (``fromMe`` as ``"true"``, numbers as strings): every field
is read defensively; a payload that is not a message answers ``None``.
"""

from __future__ import annotations

import re
from typing import Any

from atende_shared.models.envelope import InboundEvent, Provider
from functions.orders.models.whatsapp import InboundMessage, Location, MessageKind

_DIGITS = re.compile(r"\D")
MAX_TEXT = 4_096


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"true", "1", "yes"}
    return bool(value)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def phone_of(value: str | None) -> str | None:
    """E.164 for a phone-like value (``5511999990000``, ``5511...@s.whatsapp.net``,
    ``+55 11 ...``); None for a ``@lid``, a group or anything else."""
    if not value or value.endswith(("@lid", "@g.us", "-group", "@broadcast", "@newsletter")):
        return None
    digits = _DIGITS.sub("", value.split("@", 1)[0])
    return f"+{digits}" if 10 <= len(digits) <= 15 else None


def _lid(*values: Any) -> str | None:
    for value in values:
        text = _str(value)
        if text and text.endswith("@lid"):
            return text
    return None


def parse_inbound(event: InboundEvent) -> InboundMessage | None:
    """The message in a queued gateway delivery (None: not a message we can handle)."""
    if event.provider is Provider.ZAPI:
        return _zapi(event.payload)
    if event.provider is Provider.EVOLUTION:
        return _evolution(event.payload)
    return None


def _zapi(data: dict[str, Any]) -> InboundMessage | None:
    message_id = _str(data.get("messageId"))
    chat = _str(data.get("phone"))
    if not message_id or not chat:
        return None
    is_group = _flag(data.get("isGroup")) or chat.endswith(("-group", "@g.us"))
    kind: MessageKind = "other"
    text = ""
    location = None
    if _dict(data.get("text")):
        kind, text = "text", _str(_dict(data["text"]).get("message")) or ""
    elif _dict(data.get("buttonsResponseMessage")) or _dict(data.get("listResponseMessage")):
        reply = _dict(data.get("buttonsResponseMessage")) or _dict(data.get("listResponseMessage"))
        kind, text = "text", _str(reply.get("message")) or ""
    elif _dict(data.get("location")):
        raw = _dict(data["location"])
        kind = "location"
        location = Location(
            latitude=_float(raw.get("latitude")),
            longitude=_float(raw.get("longitude")),
            name=(_str(raw.get("name")) or "")[:500] or None,
            address=(_str(raw.get("address")) or "")[:500] or None,
        )
    else:
        for name in ("image", "video", "audio", "document", "sticker", "contact", "reaction"):
            if _dict(data.get(name)):
                kind = name
                text = _str(_dict(data[name]).get("caption")) or ""
                break
    phone = None if is_group else phone_of(chat)
    return InboundMessage(
        provider="zapi",
        message_id=message_id[:256],
        chat_id=chat[:128],
        phone=phone,
        lid=_lid(chat, data.get("chatLid"), data.get("senderLid")),
        from_me=_flag(data.get("fromMe")),
        from_api=_flag(data["fromApi"]) if "fromApi" in data else None,
        is_group=is_group,
        kind=kind,
        text=text[:MAX_TEXT],
        location=location,
        sender_name=(_str(data.get("senderName")) or "")[:200] or None,
    )


def _evolution(payload: dict[str, Any]) -> InboundMessage | None:
    data = _dict(payload.get("data"))
    key = _dict(data.get("key"))
    message_id = _str(key.get("id"))
    remote = _str(key.get("remoteJid"))
    if not message_id or not remote:
        return None
    is_group = remote.endswith("@g.us")
    alternative = _str(key.get("remoteJidAlt")) or _str(key.get("senderPn"))
    phone = None if is_group else (phone_of(remote) or phone_of(alternative))
    message = _dict(data.get("message"))
    kind: MessageKind = "other"
    text = ""
    location = None
    if _str(message.get("conversation")):
        kind, text = "text", _str(message["conversation"]) or ""
    elif _dict(message.get("extendedTextMessage")):
        kind, text = "text", _str(_dict(message["extendedTextMessage"]).get("text")) or ""
    elif _dict(message.get("locationMessage")) or _dict(message.get("liveLocationMessage")):
        raw = _dict(message.get("locationMessage")) or _dict(message.get("liveLocationMessage"))
        kind = "location"
        location = Location(
            latitude=_float(raw.get("degreesLatitude")),
            longitude=_float(raw.get("degreesLongitude")),
            name=(_str(raw.get("name")) or "")[:500] or None,
            address=(_str(raw.get("address")) or "")[:500] or None,
        )
    else:
        kinds: dict[str, MessageKind] = {
            "imageMessage": "image",
            "videoMessage": "video",
            "audioMessage": "audio",
            "documentMessage": "document",
            "documentWithCaptionMessage": "document",
            "stickerMessage": "sticker",
            "contactMessage": "contact",
            "contactsArrayMessage": "contact",
            "reactionMessage": "reaction",
        }
        for field, name in kinds.items():
            if field in message:
                kind = name
                text = _str(_dict(message[field]).get("caption")) or ""
                break
    return InboundMessage(
        provider="evolution",
        message_id=message_id[:256],
        chat_id=remote[:128],
        phone=phone,
        lid=_lid(remote, alternative),
        from_me=_flag(key.get("fromMe")),
        is_group=is_group,
        kind=kind,
        text=text[:MAX_TEXT],
        location=location,
        sender_name=(_str(data.get("pushName")) or "")[:200] or None,
    )
