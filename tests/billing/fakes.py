"""In-memory stand-ins honouring the same contracts as the DynamoDB store and AWS.

``FakeBillingStore.commit`` is all-or-nothing and checks exactly what the DynamoDB
implementation's conditions check (versions, must-not-exist), raising the same errors.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from atende_shared.dal.tenants import StaleTenant
from atende_shared.errors import NotFound
from atende_shared.events import DomainEvent
from atende_shared.models.tenant import AgentConfig, Tenant
from functions.billing.dal.dynamo import iso
from functions.billing.dal.protocol import AlreadyApplied, ConcurrentUpdate, Page, Transaction
from functions.billing.logic.engine import BillingDeps
from functions.billing.models.ledger import BalanceState, LedgerEntry, OutboxItem
from functions.billing.models.payments import PaymentRecord
from functions.billing.models.session import CallSession, SessionStatus


class Crash(Exception):
    """An injected process crash."""


class FakeBillingStore:
    def __init__(self) -> None:
        self.balances: dict[str, BalanceState] = {}
        self.ledger: dict[str, list[LedgerEntry]] = {}
        self.applied: dict[str, set[str]] = {}
        self.sessions: dict[tuple[str, str], CallSession] = {}
        self.payments: dict[tuple[str, str, str], PaymentRecord] = {}
        self.outbox: dict[str, dict[str, OutboxItem]] = {}
        self.aliases: dict[tuple[str, str], str] = {}
        self.commits = 0
        self._lock = threading.Lock()
        #: Raised inside commit *before* anything is applied (a crash/timeout mid-call).
        self.fail_next_commit: Exception | None = None
        #: Raised *after* the commit applied (the answer was lost: a timeout after success).
        self.fail_after_next_commit: Exception | None = None

    def get_balance(self, tenant_id: str) -> BalanceState:
        return self.balances.get(tenant_id) or BalanceState(tenant_id=tenant_id)

    def get_session(self, tenant_id: str, room_name: str) -> CallSession | None:
        return self.sessions.get((tenant_id, room_name))

    def find_room_by_call_id(self, tenant_id: str, call_id: str) -> str | None:
        return self.aliases.get((tenant_id, call_id))

    def get_payment(self, tenant_id: str, provider: str, payment_id: str) -> PaymentRecord | None:
        return self.payments.get((tenant_id, provider, payment_id))

    def is_applied(self, tenant_id: str, business_id: str) -> bool:
        return business_id in self.applied.get(tenant_id, set())

    @staticmethod
    def _check_version(current: int, new: int) -> bool:
        return current == new - 1

    def commit(self, tx: Transaction) -> None:
        with self._lock:
            if self.fail_next_commit is not None:
                exc, self.fail_next_commit = self.fail_next_commit, None
                raise exc
            t = tx.tenant_id
            version_ok = True
            if tx.balance is not None:
                version_ok &= self._check_version(self.get_balance(t).version, tx.balance.version)
            if tx.session is not None:
                current = self.sessions.get((t, tx.session.room_name))
                version_ok &= self._check_version(
                    current.version if current else 0, tx.session.version
                )
            if tx.payment is not None:
                p = self.payments.get((t, tx.payment.provider, tx.payment.payment_id))
                version_ok &= self._check_version(p.version if p else 0, tx.payment.version)
            if not version_ok:
                raise ConcurrentUpdate(t)
            applied = self.applied.setdefault(t, set())
            if any(b in applied for b in tx.applied) or len(set(tx.applied)) != len(tx.applied):
                raise AlreadyApplied(t)
            existing = {(e.posted_at, e.seq) for e in self.ledger.get(t, [])}
            if any((e.posted_at, e.seq) in existing for e in tx.entries):
                raise ConcurrentUpdate(t)
            # All conditions hold: apply everything.
            self.commits += 1
            if tx.balance is not None:
                self.balances[t] = tx.balance
            self.ledger.setdefault(t, []).extend(tx.entries)
            applied.update(tx.applied)
            if tx.session is not None:
                self.sessions[(t, tx.session.room_name)] = tx.session
            if tx.payment is not None:
                self.payments[(t, tx.payment.provider, tx.payment.payment_id)] = tx.payment
            for item in tx.outbox:
                self.outbox.setdefault(t, {})[item.key] = item
            for call_id, room in tx.aliases:
                self.aliases[(t, call_id)] = room
            if self.fail_after_next_commit is not None:
                exc, self.fail_after_next_commit = self.fail_after_next_commit, None
                raise exc

    def list_outbox(self, tenant_id: str) -> list[OutboxItem]:
        return sorted(self.outbox.get(tenant_id, {}).values(), key=lambda i: i.key)

    def delete_outbox(self, tenant_id: str, key: str) -> None:
        self.outbox.get(tenant_id, {}).pop(key, None)

    def _sorted(self, tenant_id: str) -> list[LedgerEntry]:
        return sorted(self.ledger.get(tenant_id, []), key=lambda e: (iso(e.posted_at), e.seq))

    def list_ledger(
        self,
        tenant_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
        after: dict[str, Any] | None = None,
    ) -> Page[LedgerEntry]:
        entries = list(self.iter_ledger(tenant_id, start=start, end=end))
        offset = int((after or {}).get("offset", 0))
        chunk = entries[offset : offset + limit]
        more = offset + limit < len(entries)
        return Page(items=chunk, position={"offset": offset + limit} if more else None)

    def iter_ledger(
        self, tenant_id: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[LedgerEntry]:
        for entry in self._sorted(tenant_id):
            if start and entry.posted_at < start:
                continue
            if end and entry.posted_at >= end:
                continue
            yield entry

    def last_entry_before(self, tenant_id: str, when: datetime) -> LedgerEntry | None:
        before = [e for e in self._sorted(tenant_id) if e.posted_at < when]
        return before[-1] if before else None

    def list_calls(
        self, tenant_id: str, *, limit: int = 100, after: dict[str, Any] | None = None
    ) -> Page[CallSession]:
        calls = [s for (t, _), s in sorted(self.sessions.items()) if t == tenant_id]
        offset = int((after or {}).get("offset", 0))
        more = offset + limit < len(calls)
        return Page(
            items=calls[offset : offset + limit],
            position={"offset": offset + limit} if more else None,
        )

    def due_sessions(self, now: datetime, *, limit: int = 500) -> list[tuple[str, str]]:
        due = [
            (s.sweep_at, t, r)
            for (t, r), s in self.sessions.items()
            if s.status is SessionStatus.OPEN and s.sweep_at is not None and s.sweep_at <= now
        ]
        return [(t, r) for _, t, r in sorted(due)][:limit]

    def count_open_sessions(self) -> int:
        return sum(1 for s in self.sessions.values() if s.status is SessionStatus.OPEN)

    def tenants_with_pending_outbox(self, *, limit: int = 500) -> list[str]:
        return sorted(t for t, items in self.outbox.items() if items)[:limit]

    # -- test helpers --------------------------------------------------------------------

    def ledger_sum(self, tenant_id: str) -> int:
        return sum(e.amount_cents for e in self.ledger.get(tenant_id, []))


class FakeTenantStore:
    def __init__(self, tenants: Sequence[Tenant] = (), max_call_seconds: int = 900) -> None:
        self.tenants = {t.tenant_id: t for t in tenants}
        self.max_call_seconds = max_call_seconds
        self.puts = 0

    def create_tenant(self, tenant: Tenant) -> None:
        self.tenants[tenant.tenant_id] = tenant

    def put_tenant(self, tenant: Tenant) -> None:
        self.puts += 1
        self.tenants[tenant.tenant_id] = tenant

    def replace_tenant(self, tenant: Tenant, *, expected_version: int) -> None:
        if self.get_tenant(tenant.tenant_id).version != expected_version:
            raise StaleTenant(tenant.tenant_id)
        self.put_tenant(tenant)

    def get_tenant(self, tenant_id: str) -> Tenant:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise NotFound(tenant_id) from None

    def list_tenants(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[Tenant], str | None]:
        ordered = sorted(self.tenants.values(), key=lambda t: t.tenant_id)
        offset = int(cursor or 0)
        more = offset + limit < len(ordered)
        return ordered[offset : offset + limit], (str(offset + limit) if more else None)

    def put_agent_config(self, config: AgentConfig) -> None:  # pragma: no cover - unused
        raise NotImplementedError

    def get_agent_config(self, tenant_id: str) -> AgentConfig:
        return AgentConfig(tenant_id=tenant_id, max_call_seconds=self.max_call_seconds)

    def put_menu(self, tenant_id: str, menu: Any) -> None:  # pragma: no cover - unused
        raise NotImplementedError

    def get_menu(self, tenant_id: str) -> Any:  # pragma: no cover - unused
        raise NotImplementedError


class FakePublisher:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []
        self.fail_next: Exception | None = None

    def publish(self, events: Sequence[DomainEvent]) -> None:
        if self.fail_next is not None:
            exc, self.fail_next = self.fail_next, None
            raise exc
        self.events.extend(events)

    def of_type(self, detail_type: str) -> list[DomainEvent]:
        return [e for e in self.events if e.detail_type == detail_type]

    def unique_of_type(self, detail_type: str) -> list[DomainEvent]:
        """At-least-once publishing: consumers de-duplicate on event_id, so do we."""
        seen: dict[str, DomainEvent] = {}
        for event in self.of_type(detail_type):
            seen.setdefault(event.event_id, event)
        return list(seen.values())


class Clock:
    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def make_deps(
    tenants: Sequence[Tenant],
    *,
    store: Any = None,
    clock: Clock | None = None,
    fault: Callable[[str], None] | None = None,
    max_call_seconds: int = 900,
) -> Any:  # BillingDeps holding the fakes (Any: tests reach into them)
    return BillingDeps(
        store=store or FakeBillingStore(),
        tenants=FakeTenantStore(tenants, max_call_seconds=max_call_seconds),
        publisher=FakePublisher(),
        clock=clock or Clock(),
        end_grace_seconds=120,
        fault=fault or (lambda _step: None),
    )


class FaultyStore:
    """Any store, with the same injectable commit failures as :class:`FakeBillingStore`."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.fail_next_commit: Exception | None = None
        self.fail_after_next_commit: Exception | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def commit(self, tx: Transaction) -> None:
        if self.fail_next_commit is not None:
            exc, self.fail_next_commit = self.fail_next_commit, None
            raise exc
        self._inner.commit(tx)
        if self.fail_after_next_commit is not None:
            exc, self.fail_after_next_commit = self.fail_after_next_commit, None
            raise exc
