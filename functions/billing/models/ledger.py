"""The prepaid ledger: immutable entries, the per-tenant balance item, the outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId


class EntryKind(StrEnum):
    CALL_CHARGE = "call_charge"
    PAYMENT_CREDIT = "payment_credit"
    PAYMENT_REFUND = "payment_refund"
    PAYMENT_CHARGEBACK = "payment_chargeback"
    MANUAL_CREDIT = "manual_credit"
    MANUAL_ADJUSTMENT = "manual_adjustment"


#: Accounts of the double-entry view. Every entry moves ``abs(amount)`` between the tenant's
#: prepaid account and one counter-account; only the prepaid side is stored as the balance.
PREPAID = "tenant:prepaid"
COUNTER_ACCOUNT: dict[EntryKind, str] = {
    EntryKind.CALL_CHARGE: "revenue:voice_minutes",
    EntryKind.PAYMENT_CREDIT: "clearing:asaas",
    EntryKind.PAYMENT_REFUND: "clearing:asaas",
    EntryKind.PAYMENT_CHARGEBACK: "clearing:asaas",
    EntryKind.MANUAL_CREDIT: "equity:manual_adjustments",
    EntryKind.MANUAL_ADJUSTMENT: "equity:manual_adjustments",
}


class NewEntry(BaseModel):
    """An entry a unit of work wants to post (before it gets a sequence number)."""

    model_config = ConfigDict(frozen=True)

    business_id: str = Field(min_length=1, max_length=300)
    kind: EntryKind
    amount_cents: int = Field(description="signed: + credits the tenant, - debits it")
    description: str = Field("", max_length=500)
    reference: dict[str, str] = Field(default_factory=dict)
    actor: str | None = None
    occurred_at: AwareDatetime | None = None


class LedgerEntry(BaseModel):
    """A posted, immutable ledger entry. Corrections are new entries."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    seq: int = Field(ge=1)
    business_id: str
    kind: EntryKind
    amount_cents: int
    balance_after_cents: int
    debit_account: str
    credit_account: str
    description: str = ""
    reference: dict[str, str] = Field(default_factory=dict)
    actor: str | None = None
    posted_at: AwareDatetime
    occurred_at: AwareDatetime | None = None

    @classmethod
    def build(
        cls, tenant_id: str, new: NewEntry, *, seq: int, balance_after: int, posted_at: datetime
    ) -> LedgerEntry:
        counter = COUNTER_ACCOUNT[new.kind]
        debit, credit = (counter, PREPAID) if new.amount_cents >= 0 else (PREPAID, counter)
        return cls(
            **new.model_dump(),
            tenant_id=tenant_id,
            seq=seq,
            balance_after_cents=balance_after,
            debit_account=debit,
            credit_account=credit,
            posted_at=posted_at,
        )


class BalanceState(BaseModel):
    """The per-tenant balance item: the serialisation point of every money movement.

    ``version`` is checked and bumped by every transaction that touches money, so two
    concurrent writers can never both post against the same starting balance.
    """

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    balance_cents: int = 0
    reserved_cents: int = Field(0, ge=0)
    version: int = Field(0, ge=0, description="0 = the item does not exist yet")
    entry_count: int = Field(0, ge=0)
    #: Included-minute seconds consumed per tenant-local month (``YYYY-MM``).
    included_used: dict[str, int] = Field(default_factory=dict)
    suspended_for_balance: bool = False
    low_balance_notified: bool = False
    updated_at: AwareDatetime | None = None

    @property
    def available_cents(self) -> int:
        return self.balance_cents - self.reserved_cents


class OutboxAction(StrEnum):
    PUBLISH = "publish"
    SUSPEND = "suspend"  # set the tenant's status to suspended, then publish
    RESUME = "resume"  # set it back to active, then publish


class OutboxItem(BaseModel):
    """A domain event committed with the money movement and published after it.

    Written in the same transaction, so a crash between the commit and the publish loses
    nothing: the next message for the tenant (or the redelivery) flushes it.
    """

    model_config = ConfigDict(frozen=True)

    key: str = Field(description="sort key suffix, ordered: <balance version>#<index>")
    action: OutboxAction = OutboxAction.PUBLISH
    detail_type: str
    detail: dict[str, Any]
