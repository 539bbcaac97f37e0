"""The posting engine every billing effect goes through.

``post`` is pure: from a balance, the plan and the entries a unit of work wants, it builds
the new balance (version + 1), the numbered ledger entries and the outbox events the move
triggers (BalanceLow, TenantSuspended, TenantResumed). ``run_unit`` re-reads and retries a
unit of work when an optimistic version check loses; ``flush_outbox`` publishes what a
commit left behind and applies suspensions to the tenant record.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import (
    BalanceLow,
    DomainEvent,
    TenantResumed,
    TenantSuspended,
    parse_event,
)
from atende_shared.models.common import utc_now
from atende_shared.models.tenant import BillingPlan, SuspensionReason, Tenant, TenantStatus
from atende_shared.observability import logger
from atende_shared.ports.messaging import EventPublisher
from atende_shared.ports.tenants import TenantStore, update_tenant
from functions.billing.dal.protocol import BillingStore, ConcurrentUpdate
from functions.billing.logic.verification import NoPaymentSource, PaymentSource
from functions.billing.models.ledger import (
    BalanceState,
    LedgerEntry,
    NewEntry,
    OutboxAction,
    OutboxItem,
)
from functions.billing.models.pricing import ProviderPriceTable

R = TypeVar("R")


@dataclass
class BillingDeps:
    """What billing logic needs from the outside world, injected (fakes in tests)."""

    store: BillingStore
    tenants: TenantStore
    publisher: EventPublisher
    clock: Callable[[], datetime] = utc_now
    prices: ProviderPriceTable = field(default_factory=ProviderPriceTable)
    end_grace_seconds: int = 120
    max_commit_attempts: int = 40
    #: Where payments are verified before a credit (Asaas' own API with the tenant's key).
    payment_source: PaymentSource = field(default_factory=NoPaymentSource)
    #: Test hook: called between steps to inject crashes ("after_commit", ...).
    fault: Callable[[str], None] = lambda _step: None
    #: How long a tenant profile read for rating may be reused (0 = always re-read). Plans
    #: change rarely; status changes made by billing itself always re-read (see _apply_status).
    tenant_cache_seconds: float = 0.0
    _tenant_cache: dict[str, tuple[float, Tenant]] = field(default_factory=dict, repr=False)

    def tenant(self, tenant_id: str) -> Tenant:
        """The tenant's profile (plan, zone, status), cached for ``tenant_cache_seconds``."""
        if self.tenant_cache_seconds <= 0:
            return self.tenants.get_tenant(tenant_id)
        now = time.monotonic()
        cached = self._tenant_cache.get(tenant_id)
        if cached and now - cached[0] < self.tenant_cache_seconds:
            return cached[1]
        tenant = self.tenants.get_tenant(tenant_id)
        self._tenant_cache[tenant_id] = (now, tenant)
        return tenant


@dataclass(frozen=True)
class Posted:
    balance: BalanceState
    entries: tuple[LedgerEntry, ...]
    outbox: tuple[OutboxItem, ...]


def _outbox(version: int, index: int, event: DomainEvent, action: OutboxAction) -> OutboxItem:
    return OutboxItem(
        key=f"{version:012d}#{index:02d}",
        action=action,
        detail_type=event.detail_type,
        detail=event.model_dump(mode="json"),
    )


def post(
    balance: BalanceState,
    plan: BillingPlan,
    entries: Sequence[NewEntry],
    *,
    now: datetime,
    correlation_id: str,
    reserve_delta: int = 0,
    included: tuple[str, int] | None = None,
    events: Sequence[DomainEvent] = (),
) -> Posted:
    """Apply ``entries`` (and a reservation change) to ``balance``. Pure."""
    amount = balance.balance_cents
    count = balance.entry_count
    posted: list[LedgerEntry] = []
    for new in entries:
        amount += new.amount_cents
        count += 1
        posted.append(
            LedgerEntry.build(
                balance.tenant_id, new, seq=count, balance_after=amount, posted_at=now
            )
        )
    reserved = balance.reserved_cents + reserve_delta
    if reserved < 0:
        raise ValueError(f"reservation would go negative on {balance.tenant_id}")
    used = dict(balance.included_used)
    if included is not None and included[1]:
        month, seconds = included
        used[month] = used.get(month, 0) + seconds
        used = dict(sorted(used.items())[-3:])  # older months can no longer be rated
    version = balance.version + 1
    net = amount - balance.balance_cents
    low_flag = balance.low_balance_notified
    suspended = balance.suspended_for_balance
    tenant_id = balance.tenant_id
    triggered: list[tuple[DomainEvent, OutboxAction]] = [(e, OutboxAction.PUBLISH) for e in events]
    if net < 0 and amount < plan.low_balance_threshold_cents and not low_flag:
        low_flag = True
        triggered.append(
            (
                BalanceLow(
                    tenant_id=tenant_id,
                    correlation_id=correlation_id,
                    balance_cents=amount,
                    threshold_cents=plan.low_balance_threshold_cents,
                ),
                OutboxAction.PUBLISH,
            )
        )
    elif amount >= plan.low_balance_threshold_cents:
        low_flag = False  # re-armed: the next crossing notifies again
    if amount < plan.balance_floor_cents and not suspended:
        suspended = True
        triggered.append(
            (
                TenantSuspended(
                    tenant_id=tenant_id,
                    correlation_id=correlation_id,
                    reason="balance_exhausted",
                    balance_cents=amount,
                ),
                OutboxAction.SUSPEND,
            )
        )
    elif amount > plan.balance_floor_cents and suspended:
        suspended = False
        triggered.append(
            (
                TenantResumed(tenant_id=tenant_id, correlation_id=correlation_id, reason="top_up"),
                OutboxAction.RESUME,
            )
        )
    new_balance = balance.model_copy(
        update={
            "balance_cents": amount,
            "reserved_cents": reserved,
            "version": version,
            "entry_count": count,
            "included_used": used,
            "suspended_for_balance": suspended,
            "low_balance_notified": low_flag,
            "updated_at": now,
        }
    )
    outbox = tuple(_outbox(version, i, e, a) for i, (e, a) in enumerate(triggered))
    return Posted(balance=new_balance, entries=tuple(posted), outbox=outbox)


def run_unit(deps: BillingDeps, unit: Callable[[], R]) -> R:
    """Run ``unit`` (read → decide → commit) until no concurrent writer got in the way."""
    for attempt in range(deps.max_commit_attempts):
        try:
            return unit()
        except ConcurrentUpdate:
            # Jittered back-off so contending writers on one tenant spread out.
            time.sleep(random.uniform(0, 0.002 * min(attempt + 1, 10)))  # noqa: S311
    raise DependencyUnavailable(f"gave up after {deps.max_commit_attempts} concurrent updates")


def flush_outbox(
    deps: BillingDeps, tenant_id: str, just_committed: Sequence[OutboxItem] | None = None
) -> int:
    """Apply and publish pending outbox events of ``tenant_id``, in commit order.

    ``just_committed``: the items the caller's own commit wrote (no query needed); None
    reads every pending item (a redelivery after a crash). Idempotent: the status change
    only happens from the expected state, the event keeps its id (consumers de-duplicate on
    it), and the item is deleted only after the publish.
    """
    pending = deps.store.list_outbox(tenant_id) if just_committed is None else just_committed
    flushed = 0
    for item in sorted(pending, key=lambda i: i.key):
        event = parse_event(item.detail_type, item.detail)
        publish = True
        if item.action is not OutboxAction.PUBLISH:
            publish = _apply_status(deps, tenant_id, item.action)
        deps.fault("before_publish")
        if publish:
            deps.publisher.publish([event])
        deps.fault("after_publish")
        deps.store.delete_outbox(tenant_id, item.key)
        flushed += 1
    return flushed


def _apply_status(deps: BillingDeps, tenant_id: str, action: OutboxAction) -> bool:
    """Place or lift billing's suspension hold; True when the event tells the truth.

    A top-up lifts only the balance hold: a tenant an admin suspended stays suspended, and
    no ``TenantResumed`` goes out for it. Re-applying after a crash changes nothing and
    answers the same, so the event still goes out exactly as it would have.
    """

    def apply(tenant: Tenant) -> Tenant:
        if action is OutboxAction.SUSPEND:
            return tenant.held(SuspensionReason.BALANCE)
        return tenant.released(SuspensionReason.BALANCE)

    tenant, changed = update_tenant(deps.tenants, tenant_id, apply)
    if changed:
        deps._tenant_cache.pop(tenant_id, None)
        logger.info(
            "tenant suspension hold changed by billing",
            extra={
                "tenant_id": tenant_id,
                "status": tenant.status,
                "suspended_for": tenant.suspended_for,
            },
        )
    if action is OutboxAction.RESUME and tenant.status is not TenantStatus.ACTIVE:
        logger.info(
            "balance restored; the tenant stays suspended by another hold",
            extra={"tenant_id": tenant_id, "suspended_for": tenant.suspended_for},
        )
        return False
    return True
