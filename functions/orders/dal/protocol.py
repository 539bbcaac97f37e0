"""What the orders logic needs from storage and the outside world, as protocols."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Literal, Protocol, TypeVar

from atende_shared.events import OrderChannel, OrderStatus
from functions.orders.models.calls import CallSessionView
from functions.orders.models.notifications import Delivery, DeliveryJob, WebhookEndpoint
from functions.orders.models.order import Order, StatusChange

T = TypeVar("T")

CreateOutcome = Literal["created", "exists", "number_taken"]


@dataclass(frozen=True)
class Page(Generic[T]):
    """Items and the storage position after the last one (None: no more). The handler
    seals the position into the API's signed cursor (``atende_shared.pagination``)."""

    items: list[T]
    position: dict[str, Any] | None = None


@dataclass(frozen=True)
class OrderFilter:
    status: OrderStatus | None = None
    channel: OrderChannel | None = None
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class CallInfo:
    """What the orders domain keeps about a call: its outcome and the order it produced."""

    call_id: str
    outcome: str | None = None
    summary: str | None = None
    order_id: str | None = None
    order_number: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class StaleVersion(Exception):
    """The conditional write on the order's version lost (someone changed it first)."""


class OrderStore(Protocol):
    # -- orders ------------------------------------------------------------------------
    def get_order(self, tenant_id: str, order_id: str) -> Order | None: ...
    def order_id_by_number(self, tenant_id: str, number: int) -> str | None: ...
    def create_order(self, order: Order, *, remind_at: datetime | None) -> CreateOutcome: ...
    def change_status(
        self,
        order: Order,
        change: StatusChange,
        *,
        expected_version: int,
        reason: str | None,
    ) -> Order:
        """Apply ``change`` if the stored version is still ``expected_version`` (else
        :class:`StaleVersion`); leaving ``received`` drops the order from the reminder index."""
        ...

    def mark_announced(self, tenant_id: str, order_id: str) -> None: ...
    def list_orders(
        self, tenant_id: str, flt: OrderFilter, *, limit: int, after: dict[str, Any] | None
    ) -> Page[Order]: ...
    # -- the acceptance-window index -----------------------------------------------------
    def due_for_reminder(self, now: datetime, *, limit: int) -> list[tuple[str, str]]: ...
    def set_reminder(
        self, tenant_id: str, order_id: str, *, reminded_at: datetime, next_due: datetime | None
    ) -> None: ...
    def drop_reminder(self, tenant_id: str, order_id: str) -> None: ...
    # -- calls -------------------------------------------------------------------------
    def put_call_info(self, tenant_id: str, info: CallInfo) -> None: ...
    def get_call_info(self, tenant_id: str, call_id: str) -> CallInfo | None: ...
    def get_call_infos(self, tenant_id: str, call_ids: list[str]) -> dict[str, CallInfo]: ...
    # -- webhook endpoints ---------------------------------------------------------------
    def put_endpoint(self, endpoint: WebhookEndpoint) -> None: ...
    def list_endpoints(self, tenant_id: str) -> list[WebhookEndpoint]: ...
    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool: ...
    # -- deliveries --------------------------------------------------------------------
    def create_delivery(self, delivery: Delivery) -> bool:
        """Store ``delivery`` unless it exists; False when it did."""
        ...

    def get_delivery(self, tenant_id: str, order_id: str, name: str) -> Delivery | None: ...
    def save_delivery(self, delivery: Delivery) -> None: ...
    def deliveries_for_order(self, tenant_id: str, order_id: str) -> list[Delivery]: ...
    def list_deliveries(
        self, tenant_id: str, *, failed_only: bool, limit: int, after: dict[str, Any] | None
    ) -> Page[Delivery]: ...


class JobQueue(Protocol):
    def enqueue(self, job: DeliveryJob, *, delay_seconds: int = 0) -> None:
        """Send ``job`` to the notifications queue, visible after ``delay_seconds`` (<= 900)."""
        ...


class WebhookPoster(Protocol):
    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the HTTP status; raise :class:`OSError` on a transport failure."""
        ...


class HostResolver(Protocol):
    def __call__(self, host: str) -> list[str]:
        """Every IP address ``host`` resolves to (raise ``OSError`` when it does not)."""
        ...


class CallSessions(Protocol):
    def list_sessions(
        self, tenant_id: str, *, limit: int, after: dict[str, Any] | None
    ) -> Page[CallSessionView]: ...
    def find_session(self, tenant_id: str, call_id: str) -> CallSessionView | None:
        """By SIP call id, or by room name."""
        ...


class Transcripts(Protocol):
    def find(self, tenant_id: str, call_id: str, around: datetime | None) -> str | None: ...
    def read(self, key: str) -> dict[str, Any]: ...
    def presign(self, key: str, *, seconds: int) -> str: ...
