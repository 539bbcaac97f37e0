"""Manual credits and adjustments by an admin (the demo seed uses this too)."""

from __future__ import annotations

from dataclasses import dataclass

from atende_shared.errors import ValidationFailed
from functions.billing.dal.protocol import AlreadyApplied, Transaction
from functions.billing.logic.engine import BillingDeps, flush_outbox, post, run_unit
from functions.billing.models.ledger import (
    BalanceState,
    EntryKind,
    LedgerEntry,
    NewEntry,
    OutboxItem,
)


@dataclass(frozen=True)
class CreditResult:
    applied: bool  # False: this idempotency key was used before, nothing changed
    balance: BalanceState
    entry: LedgerEntry | None = None
    outbox: tuple[OutboxItem, ...] = ()


def credit(
    tenant_id: str,
    amount_cents: int,
    reason: str,
    actor: str,
    idempotency_key: str,
    *,
    deps: BillingDeps,
    correlation_id: str | None = None,
) -> CreditResult:
    """Post a manual credit (amount > 0) or adjustment (amount < 0) exactly once per
    ``idempotency_key`` (dependencies from ``functions.billing.handlers.deps``)."""
    if amount_cents == 0:
        raise ValidationFailed("amount_cents must not be zero")
    if not reason.strip() or not actor.strip():
        raise ValidationFailed("a reason and the admin's identity are required")
    tenant = deps.tenant(tenant_id)  # NotFound for unknown tenants
    business_id = f"manual:{idempotency_key}"
    kind = EntryKind.MANUAL_CREDIT if amount_cents > 0 else EntryKind.MANUAL_ADJUSTMENT
    new = NewEntry(
        business_id=business_id,
        kind=kind,
        amount_cents=amount_cents,
        description=reason.strip()[:500],
        actor=actor,
        reference={"idempotency_key": idempotency_key},
    )
    cid = correlation_id or f"manual-{idempotency_key}"

    def unit() -> CreditResult:
        if deps.store.is_applied(tenant_id, business_id):
            return CreditResult(applied=False, balance=deps.store.get_balance(tenant_id))
        balance = deps.store.get_balance(tenant_id)
        posted = post(balance, tenant.plan, [new], now=deps.clock(), correlation_id=cid)
        try:
            deps.store.commit(
                Transaction(
                    tenant_id=tenant_id,
                    balance=posted.balance,
                    entries=posted.entries,
                    applied=(business_id,),
                    outbox=posted.outbox,
                )
            )
        except AlreadyApplied:
            return CreditResult(applied=False, balance=deps.store.get_balance(tenant_id))
        return CreditResult(
            applied=True, balance=posted.balance, entry=posted.entries[0], outbox=posted.outbox
        )

    result = run_unit(deps, unit)
    # A fresh credit flushes what it wrote; a repeated request (perhaps after a crash
    # before the flush) reads whatever is still pending.
    flush_outbox(deps, tenant_id, result.outbox if result.applied else None)
    return result
