"""One conversation's ordering state, shared by the voice call and the WhatsApp chat.

Only the tools (:mod:`atende_shared.ordering.tools`) change the cart; the offline brain reads
it the way an LLM reads the conversation; prices come from the menu. A channel extends
:class:`OrderState` with what only it knows (the voice call's room, the chat's session).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from atende_shared.events import DomainEvent, OrderChannel
from atende_shared.models.common import utc_now
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.ordering.catalog import MenuIndex
from atende_shared.ordering.prompts import Lang, lang_of

Awaiting = Literal["fulfilment", "address", "confirmation"]
Outcome = Literal[
    "in_progress",
    "ordered",
    "transferred",
    "refused_suspended",
    "refused_after_hours",
    "ended_without_order",
    "abandoned",
]


class EventPublisher(Protocol):
    def publish(self, events: Sequence[DomainEvent]) -> None: ...


@dataclass
class CartLine:
    item_id: str
    option_id: str | None
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    order_id: str
    number: str
    total_cents: int


@dataclass(kw_only=True)
class OrderState:
    """Everything one conversation knows about its order."""

    tenant: Tenant
    agent_config: AgentConfig
    menu: Menu
    #: The conversation's stable id (the call id, the WhatsApp chat session): the order id
    #: derives from it, so a retried confirmation produces the same order.
    conversation_id: str = ""
    channel: OrderChannel = "voice"
    caller_number: str | None = None
    correlation_id: str = ""
    started_at: datetime = field(default_factory=utc_now)
    cart: list[CartLine] = field(default_factory=list)
    fulfilment: Literal["pickup", "delivery"] | None = None
    address: str | None = None
    awaiting: Awaiting | None = None
    #: An item the caller asked for without its size: (item id, quantity) until they say it.
    pending_size: tuple[str, int] | None = None
    order: PlacedOrder | None = None
    outcome: Outcome = "in_progress"
    confirm_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _index: MenuIndex | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = f"{self.channel}-{self.conversation_id}"[:128]

    @property
    def lang(self) -> Lang:
        return lang_of(self.agent_config.language)

    @property
    def index(self) -> MenuIndex:
        if self._index is None:
            self._index = MenuIndex(self.menu)
        return self._index

    def line_for(self, item_id: str, option_id: str | None) -> CartLine | None:
        return next(
            (ln for ln in self.cart if ln.item_id == item_id and ln.option_id == option_id), None
        )

    def lines_for(self, item_id: str, option_id: str | None = None) -> list[CartLine]:
        """The cart lines of ``item_id``: every size, or only ``option_id`` when given."""
        return [
            ln
            for ln in self.cart
            if ln.item_id == item_id and (option_id is None or ln.option_id == option_id)
        ]

    def order_identity(self) -> tuple[str, str]:
        """Order id and the short number said to the customer, both derived from the
        conversation id, so a retried confirmation (or a re-dispatched job) produces the
        same order."""
        key = f"{self.tenant.tenant_id}:{self.conversation_id}"
        digest = hashlib.sha256(key.encode()).hexdigest()
        return f"ord-{digest[:20]}", str(int(digest[:8], 16) % 9000 + 1000)
