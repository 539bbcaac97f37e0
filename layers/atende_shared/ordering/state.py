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

from atende_shared.events import DomainEvent, OrderAddress, OrderChannel, OrderPayment
from atende_shared.models.common import utc_now
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, DeliveryZone, Tenant
from atende_shared.ordering.catalog import MenuIndex
from atende_shared.ordering.prompts import Lang, lang_of

Awaiting = Literal[
    "fulfilment",
    "address",
    "neighbourhood",
    "payment",
    "change",
    "name",
    "confirmation",
    "handoff",
    "usual",
]
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
    """One line: an item (in a size), its flavours, modifiers and note, and how many."""

    item_id: str
    option_id: str | None
    quantity: int
    #: A fractional item's flavours, the line's own item first ("meio a meio": two ids).
    flavours: tuple[str, ...] = ()
    #: Chosen modifier ids, in the order said.
    modifiers: tuple[str, ...] = ()
    notes: str | None = None

    def same_recipe(self, other: CartLine) -> bool:
        return (self.item_id, self.option_id, self.flavours, self.modifiers, self.notes) == (
            other.item_id,
            other.option_id,
            other.flavours,
            other.modifiers,
            other.notes,
        )


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
    #: The line under discussion (last added/changed/described): "na verdade, três".
    focus: str | None = None
    #: An item just offered (an alternative, a description): "pode ser" takes it.
    offered: str | None = None
    #: What the customer asked for when the offer was made: (quantity, size id).
    offered_for: tuple[int, str | None] | None = None
    #: Close matches offered for words not understood ("qual delas?").
    candidates: list[str] = field(default_factory=list)
    misunderstood: int = 0
    customer_name: str | None = None
    #: A returning customer's last order as cart lines (from the customer store).
    last_order: list[CartLine] | None = None
    delivery_address: OrderAddress | None = None
    zone: DeliveryZone | None = None
    payment: OrderPayment | None = None
    #: The language the customer speaks, when the tenant allows more than one.
    spoken_lang: Lang | None = None
    order: PlacedOrder | None = None
    outcome: Outcome = "in_progress"
    confirm_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _index: MenuIndex | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = f"{self.channel}-{self.conversation_id}"[:128]

    @property
    def lang(self) -> Lang:
        return self.spoken_lang or lang_of(self.agent_config.language)

    @property
    def allowed_langs(self) -> set[Lang]:
        return {lang_of(code) for code in self.tenant.languages} | {
            lang_of(self.agent_config.language)
        }

    @property
    def index(self) -> MenuIndex:
        if self._index is None:
            self._index = MenuIndex(self.menu)
        return self._index

    def line_for(self, item_id: str, option_id: str | None) -> CartLine | None:
        """The plain line (no flavours, modifiers or note) of ``item_id`` in ``option_id``."""
        plain = CartLine(item_id, option_id, 0)
        return next((ln for ln in self.cart if ln.same_recipe(plain)), None)

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
