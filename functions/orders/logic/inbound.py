"""A queued gateway delivery as the channel needs it: the platform's one reading of the
payload (:func:`atende_shared.models.whatsapp_inbound.inbound_message`: ids, chat, sender,
``fromMe``, group, text and captions) plus what only a conversation needs from it.

The extras, from the gateways' documented payloads:

- **what kind of message** it is, so a voice note or a sticker gets a helpful sentence:
  Z-API (``Z-API/z-api-docs`` ``docs/webhooks/on-message-received.md``) puts one content
  object in the callback — ``text``, ``image``, ``audio``, ``video``, ``document``,
  ``sticker``, ``contact``, ``location``, ``reaction``, ``buttonsResponseMessage`` /
  ``listResponseMessage`` (a tapped option, read as text); Evolution carries the Baileys
  message in ``data.message`` — ``conversation``, ``extendedTextMessage``,
  ``imageMessage``, ``audioMessage``, ``videoMessage``, ``documentMessage``,
  ``stickerMessage``, ``contactMessage``, ``locationMessage``, ``reactionMessage``;
- **the location** (Z-API ``location.{latitude, longitude, name, address}``, Evolution
  ``locationMessage.{degreesLatitude, degreesLongitude, name, address}``), which fills the
  delivery address;
- **the ``@lid``** and the phone it stands for when the gateway gives both (Z-API
  ``senderLid``/``chatLid``; Evolution ``key.remoteJid`` ``...@lid`` with
  ``key.remoteJidAlt``/``key.senderPn`` since v2.3 — evolution-api PR #1955, issues #1778,
  #2217);
- Z-API's **``fromApi``**: an echo of a message sent through the API (by any integration),
  not typed by a person.
"""

from __future__ import annotations

import re
from typing import Any

from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.models.whatsapp_inbound import flag, inbound_message
from functions.orders.models.whatsapp import ChatMessage, Location, MessageKind

_DIGITS = re.compile(r"\D")

_ZAPI_KINDS: tuple[MessageKind, ...] = (
    "image",
    "video",
    "audio",
    "document",
    "sticker",
    "contact",
    "reaction",
)
_EVOLUTION_KINDS: dict[str, MessageKind] = {
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


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any, limit: int = 500) -> str | None:
    if isinstance(value, str) and value.strip():
        return value.strip()[:limit]
    return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def phone_of(value: str | None) -> str | None:
    """E.164 for a phone-like value (``5511999990000``, ``...@s.whatsapp.net``, ``+55 11
    ...``); None for a ``@lid``, a group or anything else."""
    if not value or value.endswith(("@lid", "@g.us", "-group", "@broadcast", "@newsletter")):
        return None
    digits = _DIGITS.sub("", value.split("@", 1)[0])
    return f"+{digits}" if 10 <= len(digits) <= 15 else None


def _lid(*values: Any) -> str | None:
    for value in values:
        text = _str(value, 128)
        if text and text.endswith("@lid"):
            return text
    return None


def _location(raw: dict[str, Any], lat: str, lon: str) -> Location:
    return Location(
        latitude=_float(raw.get(lat)),
        longitude=_float(raw.get(lon)),
        name=_str(raw.get("name")),
        address=_str(raw.get("address")),
    )


def _zapi_extras(data: dict[str, Any]) -> dict[str, Any]:
    kind: MessageKind = "other"
    text = None
    location = None
    if _dict(data.get("text")):
        kind = "text"
    elif _dict(data.get("buttonsResponseMessage")) or _dict(data.get("listResponseMessage")):
        reply = _dict(data.get("buttonsResponseMessage")) or _dict(data.get("listResponseMessage"))
        kind, text = "text", _str(reply.get("message"), 4_096)
    elif _dict(data.get("location")):
        kind, location = "location", _location(_dict(data["location"]), "latitude", "longitude")
    else:
        kind = next((k for k in _ZAPI_KINDS if _dict(data.get(k))), "other")
    return {
        "kind": kind,
        "text": text,
        "location": location,
        "lid": _lid(data.get("phone"), data.get("chatLid"), data.get("senderLid")),
        "alternative": None,
        "from_api": flag(data["fromApi"]) if "fromApi" in data else None,
    }


def _evolution_extras(payload: dict[str, Any]) -> dict[str, Any]:
    data = payload.get("data")
    if isinstance(data, list):  # some versions wrap the message in a one-element list
        data = data[0] if data else None
    data = _dict(data)
    key = _dict(data.get("key"))
    message = _dict(data.get("message"))
    kind: MessageKind = "other"
    location = None
    if _str(message.get("conversation"), 4_096) or _dict(message.get("extendedTextMessage")):
        kind = "text"
    elif _dict(message.get("locationMessage")) or _dict(message.get("liveLocationMessage")):
        raw = _dict(message.get("locationMessage")) or _dict(message.get("liveLocationMessage"))
        kind, location = "location", _location(raw, "degreesLatitude", "degreesLongitude")
    else:
        kind = next((v for k, v in _EVOLUTION_KINDS.items() if k in message), "other")
    alternative = _str(key.get("remoteJidAlt"), 128) or _str(key.get("senderPn"), 128)
    return {
        "kind": kind,
        "text": None,
        "location": location,
        "lid": _lid(key.get("remoteJid"), alternative),
        "alternative": alternative,
        "from_api": None,
    }


def parse_inbound(event: InboundEvent) -> ChatMessage | None:
    """The message in a queued gateway delivery (None: not a message)."""
    base = inbound_message(event)
    if base is None:
        return None
    if event.provider is Provider.ZAPI:
        extras = _zapi_extras(event.payload)
    else:
        extras = _evolution_extras(event.payload)
    chat = base.chat_id or base.sender_phone
    if not chat:
        return None
    phone = None if base.is_group else (phone_of(chat) or phone_of(extras["alternative"]))
    return ChatMessage(
        provider=base.gateway,
        message_id=base.message_id,
        chat_id=chat[:128],
        phone=phone,
        lid=None if base.is_group else extras["lid"],
        sender=base.sender_phone[:128] or None,
        from_me=base.from_me,
        from_api=extras["from_api"],
        is_group=base.is_group,
        kind=extras["kind"],
        text=extras["text"] or base.text,
        location=extras["location"],
        sender_name=(base.sender_name or "")[:200] or None,
    )
