"""The billing store interface logic depends on, and its unit of work.

A :class:`Transaction` is everything one business effect changes, committed atomically:
the new balance (version-checked), the ledger entries, one idempotency item per business
id (must not exist), the new session/payment record (version-checked), outbox events and
call-id aliases. Either all of it lands or none of it does.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from functions.billing.models.ledger import BalanceState, LedgerEntry, OutboxItem
from functions.billing.models.payments import PaymentRecord
from functions.billing.models.session import CallSession


class ConcurrentUpdate(Exception):
    """A version check failed: someone else moved the balance/session first. Retry."""


class AlreadyApplied(Exception):
    """An idempotency item exists: this business id was posted before."""


@dataclass(frozen=True)
class Transaction:
    """One atomic write. New objects carry ``version = previous + 1`` (1 = create)."""

    tenant_id: str
    balance: BalanceState | None = None
    entries: tuple[LedgerEntry, ...] = ()
    applied: tuple[str, ...] = ()
    session: CallSession | None = None
    payment: PaymentRecord | None = None
    outbox: tuple[OutboxItem, ...] = ()
    aliases: tuple[tuple[str, str], ...] = ()  # (sip call id, room name)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page from storage: the items and where the next page starts (``None``: the
    last page). The API seals ``position`` into a signed cursor (``atende_shared.pagination``)."""

    items: list[T]
    position: dict[str, Any] | None


class BillingStore(Protocol):
    def get_balance(self, tenant_id: str) -> BalanceState: ...
    def get_session(self, tenant_id: str, room_name: str) -> CallSession | None: ...
    def find_room_by_call_id(self, tenant_id: str, call_id: str) -> str | None: ...
    def get_payment(
        self, tenant_id: str, provider: str, payment_id: str
    ) -> PaymentRecord | None: ...
    def is_applied(self, tenant_id: str, business_id: str) -> bool: ...
    def commit(self, tx: Transaction) -> None: ...
    def list_outbox(self, tenant_id: str) -> list[OutboxItem]: ...
    def delete_outbox(self, tenant_id: str, key: str) -> None: ...
    def list_ledger(
        self,
        tenant_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
        after: dict[str, Any] | None = None,
    ) -> Page[LedgerEntry]: ...
    def iter_ledger(
        self, tenant_id: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[LedgerEntry]: ...
    def last_entry_before(self, tenant_id: str, when: datetime) -> LedgerEntry | None: ...
    def list_calls(
        self, tenant_id: str, *, limit: int = 100, after: dict[str, Any] | None = None
    ) -> Page[CallSession]: ...
    def due_sessions(self, now: datetime, *, limit: int = 500) -> list[tuple[str, str]]: ...
    def count_open_sessions(self) -> int: ...
    def tenants_with_pending_outbox(self, *, limit: int = 500) -> list[str]: ...


class StatementStore(Protocol):
    def put_statement(
        self, tenant_id: str, period: str, csv_text: str, summary: dict[str, Any]
    ) -> list[str]: ...
    def list_statements(self, tenant_id: str) -> list[dict[str, Any]]: ...
    def download_links(
        self, tenant_id: str, period: str, *, seconds: int
    ) -> dict[str, str] | None: ...
