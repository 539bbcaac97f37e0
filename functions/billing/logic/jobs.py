"""Scheduled jobs: monthly statements and the daily balance == sum(ledger) proof."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from atende_shared.errors import ValidationFailed
from atende_shared.models.tenant import Tenant
from atende_shared.observability import logger
from atende_shared.ports.tenants import iter_tenants
from functions.billing.dal.protocol import StatementStore
from functions.billing.logic.engine import BillingDeps
from functions.billing.models.ledger import EntryKind

_PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Mismatch:
    tenant_id: str
    balance_cents: int
    ledger_sum_cents: int
    balance_entry_count: int
    ledger_entry_count: int
    reserved_cents: int

    @property
    def difference_cents(self) -> int:
        return self.balance_cents - self.ledger_sum_cents


@dataclass
class ReconcileReport:
    tenants: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)


def reconcile(deps: BillingDeps) -> ReconcileReport:
    """Prove, for every tenant, that the balance item equals the sum of its ledger (and
    that the entry counter and the reservation are sane). Logs each tenant that fails."""
    report = ReconcileReport()
    for tenant in iter_tenants(deps.tenants):
        report.tenants += 1
        balance = deps.store.get_balance(tenant.tenant_id)
        total = count = 0
        for entry in deps.store.iter_ledger(tenant.tenant_id):
            total += entry.amount_cents
            count += 1
        if (
            total != balance.balance_cents
            or count != balance.entry_count
            or balance.reserved_cents < 0
        ):
            mismatch = Mismatch(
                tenant_id=tenant.tenant_id,
                balance_cents=balance.balance_cents,
                ledger_sum_cents=total,
                balance_entry_count=balance.entry_count,
                ledger_entry_count=count,
                reserved_cents=balance.reserved_cents,
            )
            logger.error(
                "ledger mismatch",
                extra={
                    "tenant_id": tenant.tenant_id,
                    "balance_cents": mismatch.balance_cents,
                    "ledger_sum_cents": mismatch.ledger_sum_cents,
                    "difference_cents": mismatch.difference_cents,
                    "balance_entry_count": mismatch.balance_entry_count,
                    "ledger_entry_count": mismatch.ledger_entry_count,
                },
            )
            report.mismatches.append(mismatch)
    return report


def previous_period(now: datetime) -> str:
    """The month before ``now`` (the statement job runs on the 1st)."""
    year, month = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def period_bounds(period: str, time_zone: str) -> tuple[datetime, datetime]:
    """[start, end) of a ``YYYY-MM`` month in the tenant's zone."""
    match = _PERIOD.fullmatch(period)
    if not match:
        raise ValidationFailed(f"invalid period {period!r} (expected YYYY-MM)")
    year, month = int(match.group(1)), int(match.group(2))
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    start = datetime(year, month, 1, tzinfo=zone)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=zone)
    return start, end


CSV_COLUMNS = (
    "seq",
    "posted_at",
    "kind",
    "business_id",
    "description",
    "amount_cents",
    "balance_after_cents",
    "debit_account",
    "credit_account",
    "actor",
)


def build_statement(deps: BillingDeps, tenant: Tenant, period: str) -> tuple[str, dict[str, Any]]:
    """The CSV of a month's entries and its JSON summary (opening/closing balances...)."""
    start, end = period_bounds(period, tenant.time_zone)
    before = deps.store.last_entry_before(tenant.tenant_id, start)
    opening = before.balance_after_cents if before else 0
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    credits = debits = calls = count = 0
    closing = opening
    for entry in deps.store.iter_ledger(tenant.tenant_id, start=start, end=end):
        count += 1
        closing += entry.amount_cents
        if entry.amount_cents >= 0:
            credits += entry.amount_cents
        else:
            debits += -entry.amount_cents
        calls += entry.kind is EntryKind.CALL_CHARGE
        writer.writerow(
            [
                entry.seq,
                entry.posted_at.isoformat(),
                entry.kind.value,
                entry.business_id,
                entry.description,
                entry.amount_cents,
                entry.balance_after_cents,
                entry.debit_account,
                entry.credit_account,
                entry.actor or "",
            ]
        )
    summary = {
        "tenant_id": tenant.tenant_id,
        "period": period,
        "time_zone": tenant.time_zone,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "opening_balance_cents": opening,
        "credits_cents": credits,
        "debits_cents": debits,
        "closing_balance_cents": closing,
        "entries": count,
        "charged_calls": calls,
        "generated_at": deps.clock().isoformat(),
    }
    return buffer.getvalue(), summary


def write_statements(
    deps: BillingDeps, statements: StatementStore, *, period: str | None = None
) -> list[str]:
    """Write every tenant's statement for ``period`` (default: last month). Idempotent:
    re-running overwrites the same keys with the same content (except generated_at)."""
    chosen = period or previous_period(deps.clock())
    written: list[str] = []
    for tenant in iter_tenants(deps.tenants):
        csv_text, summary = build_statement(deps, tenant, chosen)
        written.extend(statements.put_statement(tenant.tenant_id, chosen, csv_text, summary))
    return written
