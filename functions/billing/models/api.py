"""Bodies of the billing admin API."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StrictInt, StringConstraints

from functions.billing.models.ledger import BalanceState, LedgerEntry
from functions.billing.models.session import CallSession

#: The largest manual credit or debit one request may post (R$ 50.000,00): larger
#: movements come from payments, which are verified at the source.
MANUAL_LIMIT_CENTS = 5_000_000


class CreditRequest(BaseModel):
    """``POST /v1/tenants/{tenant_id}/credits``: a manual credit (or negative adjustment).

    The amount is strict integer cents (``"100"`` is refused), non-zero and within
    ±:data:`MANUAL_LIMIT_CENTS`; the reason is required (it is the ledger entry's
    description and the audit trail). A debit may take the balance below zero (a
    correction of a chargeback, say): the usual low-balance and suspension rules follow."""

    model_config = ConfigDict(extra="forbid")

    amount_cents: Annotated[
        StrictInt,
        Field(
            ge=-MANUAL_LIMIT_CENTS,
            le=MANUAL_LIMIT_CENTS,
            description=f"signed integer cents, non-zero, |amount| <= {MANUAL_LIMIT_CENTS}",
        ),
    ]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5, max_length=500)]
    idempotency_key: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")


class BalanceView(BaseModel):
    """``GET .../balance``: the prepaid balance and what is reserved for live calls."""

    tenant_id: str
    balance_cents: int
    reserved_cents: int
    available_cents: int
    entry_count: int
    included_seconds_used: dict[str, int] = Field(
        default_factory=dict, description="included-minute seconds used per month (YYYY-MM)"
    )
    suspended_for_balance: bool
    updated_at: AwareDatetime | None = None

    @classmethod
    def of(cls, balance: BalanceState) -> BalanceView:
        return cls(
            tenant_id=balance.tenant_id,
            balance_cents=balance.balance_cents,
            reserved_cents=balance.reserved_cents,
            available_cents=balance.available_cents,
            entry_count=balance.entry_count,
            included_seconds_used=balance.included_used,
            suspended_for_balance=balance.suspended_for_balance,
            updated_at=balance.updated_at,
        )


class CostBreakdown(BaseModel):
    stt_cents: int | None = None
    llm_cents: int | None = None
    tts_cents: int | None = None
    models: dict[str, str] = Field(default_factory=dict)


class CallView(BaseModel):
    """One rated call with its cost and margin."""

    room_name: str
    call_id: str | None = None
    status: str
    caller_number: str | None = None
    dialled_number: str | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    end_reason: str | None = None
    duration_seconds: int | None = None
    billed_seconds: int | None = None
    included_seconds: int | None = None
    amount_cents: int | None = None
    reserved_cents: int | None = None
    underfunded: bool = False
    cost_cents: int | None = None
    cost_breakdown: CostBreakdown | None = None
    margin_cents: int | None = None

    @classmethod
    def of(cls, call: CallSession) -> CallView:
        usage = call.usage
        return cls(
            room_name=call.room_name,
            call_id=call.call_id,
            status=call.status.value,
            caller_number=call.caller_number,
            dialled_number=call.dialled_number,
            started_at=call.start_at,
            ended_at=call.ended_at,
            end_reason=call.end_reason,
            duration_seconds=call.duration_seconds,
            billed_seconds=call.billed_seconds,
            included_seconds=call.included_seconds,
            amount_cents=call.amount_cents,
            reserved_cents=call.reserved_cents,
            underfunded=call.underfunded,
            cost_cents=usage.cost_cents if usage else None,
            cost_breakdown=(
                CostBreakdown(
                    stt_cents=usage.stt_cost_cents,
                    llm_cents=usage.llm_cost_cents,
                    tts_cents=usage.tts_cost_cents,
                    models=usage.models,
                )
                if usage
                else None
            ),
            margin_cents=call.margin_cents,
        )


class CreditResult(BaseModel):
    """``POST .../credits``: whether this request posted the entry (``false``: the same
    idempotency key posted it earlier), the balance after, and the entry."""

    applied: bool
    balance: BalanceView
    entry: LedgerEntry | None = None


class StatementSummary(BaseModel):
    """A monthly statement's summary and where its CSV and JSON are stored."""

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    tenant_id: str
    period: str
    time_zone: str | None = None
    from_: str | None = Field(None, alias="from")
    to: str | None = None
    opening_balance_cents: int
    credits_cents: int
    debits_cents: int
    closing_balance_cents: int
    entries: int
    charged_calls: int | None = None
    generated_at: str | None = None
    csv_key: str
    json_key: str


class StatementDownload(BaseModel):
    """``GET .../statements/{period}``: short-lived links to one statement's files."""

    period: str
    csv_url: str
    json_url: str
    expires_in_seconds: int
