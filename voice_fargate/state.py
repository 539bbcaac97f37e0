"""Per-call state (``RunContext[CallState]``) and the services a call talks to.

:class:`CallState` is the ordering core's :class:`~atende_shared.ordering.state.OrderState`
plus what only a phone call has: the LiveKit room and SIP participant, the refusal decided
at admission, the transcript. One per call, created by the worker (or the local call)
before the session starts and handed to ``AgentSession(userdata=...)``. The outside world
(event bus, transcript store, SIP transfer) sits behind small protocols in
:class:`CallServices` so tests and the local call swap in their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from atende_shared.dal.customers import CustomerStore
from atende_shared.ordering.state import (
    Awaiting,
    CartLine,
    EventPublisher,
    OrderState,
    Outcome,
    PlacedOrder,
)
from atende_shared.ordering.tools import NumberAllocator

__all__ = [
    "Awaiting",
    "CallServices",
    "CallState",
    "CallTransferer",
    "CartLine",
    "EventPublisher",
    "Outcome",
    "PlacedOrder",
    "TranscriptStore",
]


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
    #: Allocates the kitchen's order number at confirmation (None: the orders domain does).
    allocate_number: NumberAllocator | None = None
    #: Remembers callers per tenant by phone (None: every caller is new).
    customers: CustomerStore | None = None


@dataclass(kw_only=True)
class CallState(OrderState):
    """Everything one call knows. Only tools change the cart; prices come from the menu."""

    call_id: str
    room_name: str
    services: CallServices
    dialled_number: str | None = None
    participant_identity: str | None = None
    refusal: str | None = None  # set when the call must be refused politely (no order)
    ended_at: datetime | None = None
    transcript: dict[str, Any] | None = field(default=None, repr=False)  # set by finalise_call

    def __post_init__(self) -> None:
        self.conversation_id = self.conversation_id or self.call_id
        self.channel = "voice"
        if not self.correlation_id:
            self.correlation_id = f"call-{self.call_id}"[:128]
        super().__post_init__()
