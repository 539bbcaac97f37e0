"""The WhatsApp ordering channel's models: one inbound message, normalised from either
gateway; a conversation's session; a conversation's pause (human takeover)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId

MessageKind = Literal[
    "text",
    "audio",
    "image",
    "video",
    "document",
    "sticker",
    "location",
    "contact",
    "reaction",
    "other",
]
PauseReason = Literal["human_reply", "hand_off", "admin"]


class Location(BaseModel):
    model_config = ConfigDict(frozen=True)

    latitude: float | None = None
    longitude: float | None = None
    name: str | None = Field(None, max_length=500)
    address: str | None = Field(None, max_length=500)

    def as_address(self) -> str | None:
        """A delivery address a person can read: the gateway's address or place name,
        else the coordinates (the kitchen can open them in a map)."""
        words = " - ".join(p for p in (self.name, self.address) if p and p.strip())
        if words:
            return words[:300]
        if self.latitude is not None and self.longitude is not None:
            return f"Localização {self.latitude:.6f},{self.longitude:.6f}"
        return None


class ChatMessage(BaseModel):
    """One WhatsApp message, whichever gateway delivered it."""

    model_config = ConfigDict(frozen=True)

    provider: Literal["zapi", "evolution"]
    message_id: str = Field(min_length=1, max_length=256)
    #: Where replies go (the gateway's recipient: digits, a ``@lid`` or a group id).
    chat_id: str = Field(min_length=1, max_length=128)
    #: The customer's phone in E.164 when the gateway gave one (directly or as the
    #: alternative of a ``@lid``).
    phone: str | None = None
    lid: str | None = None
    #: Who wrote it: the customer, or in a group the member (as the gateway names them).
    sender: str | None = Field(None, max_length=128)
    from_me: bool = False
    #: Z-API's ``fromApi``: sent through the API (ours or another integration), not by a
    #: person on the phone. None when the gateway does not say.
    from_api: bool | None = None
    is_group: bool = False
    kind: MessageKind = "text"
    text: str = ""
    location: Location | None = None
    sender_name: str | None = Field(None, max_length=200)

    @property
    def customer(self) -> str:
        """The conversation key: the phone's digits when known, else the chat id."""
        if self.phone and not self.is_group:
            return self.phone.lstrip("+")
        return self.chat_id


class ChatTurn(BaseModel):
    """One line of the conversation kept for the LLM (text only, no tool traffic)."""

    role: Literal["user", "assistant"]
    content: str = Field(max_length=4_096)


class Session(BaseModel):
    """One conversation's state between messages. Expires after the tenant's idle time."""

    tenant_id: TenantId
    customer: str = Field(min_length=1, max_length=128)
    conversation_id: str = Field(min_length=1, max_length=128)
    chat_id: str = Field(min_length=1, max_length=128)
    version: int = Field(0, ge=0)
    #: The ordering core's state (see ``logic.state_codec``).
    state: dict[str, Any] = Field(default_factory=dict)
    history: list[ChatTurn] = Field(default_factory=list)
    #: Ids of the messages this session answered (the newest last), and their replies,
    #: so a redelivered message re-sends the same replies (deduplicated) and nothing else.
    seen: list[str] = Field(default_factory=list)
    replies: dict[str, list[str]] = Field(default_factory=dict)
    turns: int = Field(0, ge=0)
    closed: bool = False
    created_at: AwareDatetime
    updated_at: AwareDatetime
    expires_at: AwareDatetime


class Pause(BaseModel):
    """The bot is silent in one conversation until ``paused_until`` (or an admin resumes)."""

    tenant_id: TenantId
    customer: str
    paused_until: AwareDatetime
    reason: PauseReason
    paused_at: AwareDatetime


class ConversationView(BaseModel):
    """What the admin API shows of one conversation."""

    tenant_id: TenantId
    customer: str
    active_session: bool
    conversation_id: str | None = None
    turns: int = 0
    cart_items: int = 0
    order_id: str | None = None
    paused: bool = False
    paused_until: AwareDatetime | None = None
    pause_reason: PauseReason | None = None


class PauseRequest(BaseModel):
    """``POST .../pause``: how long (default: the tenant's human-pause hours)."""

    hours: int | None = Field(None, ge=1, le=7 * 24)
