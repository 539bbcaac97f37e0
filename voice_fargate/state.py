"""Per-call state (``RunContext[CallState]``) and the services a call talks to.

One :class:`CallState` per call, created by the worker (or the local call) before the
session starts and handed to ``AgentSession(userdata=...)``. Tools mutate it; the offline
brain reads it; the records at session end are built from it. The outside world (event
bus, transcript store, SIP transfer) sits behind small protocols in :class:`CallServices`
so tests and the local call swap in their own.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol

from atende_shared.events import DomainEvent
from atende_shared.models.common import utc_now
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from voice_fargate.catalog import MenuIndex
from voice_fargate.prompts import Lang, lang_of

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


class TranscriptStore(Protocol):
    def put_json(self, key: str, body: dict[str, Any]) -> None: ...


class CallTransferer(Protocol):
    async def transfer(self, *, room_name: str, participant_identity: str, to_number: str) -> None:
        """SIP REFER the caller to ``to_number`` (E.164); raises on failure."""
        ...


@dataclass
class CallServices:
    publisher: EventPublisher
    transcripts: TranscriptStore
    transferer: CallTransferer


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


@dataclass
class CallState:
    """Everything one call knows. Only tools change the cart; prices come from the menu."""

    tenant: Tenant
    agent_config: AgentConfig
    menu: Menu
    call_id: str
    room_name: str
    services: CallServices
    caller_number: str | None = None
    dialled_number: str | None = None
    participant_identity: str | None = None
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
    refusal: str | None = None  # set when the call must be refused politely (no order)
    ended_at: datetime | None = None
    transcript: dict[str, Any] | None = field(default=None, repr=False)  # set by finalise_call
    confirm_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    _index: MenuIndex | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if not self.correlation_id:
            self.correlation_id = f"call-{self.call_id}"[:128]

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
        """Order id and the short number said to the caller, both derived from the call id,
        so a retried confirmation (or a re-dispatched job) produces the same order."""
        digest = hashlib.sha256(f"{self.tenant.tenant_id}:{self.call_id}".encode()).hexdigest()
        return f"ord-{digest[:20]}", str(int(digest[:8], 16) % 9000 + 1000)
