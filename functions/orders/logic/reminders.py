"""The acceptance window: remind the restaurant of a ``received`` order, then apply the
tenant's timeout action (keep waiting, or refuse and tell the customer)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from atende_shared.errors import AtendeError
from atende_shared.observability import logger
from functions.orders.logic.lifecycle import change_status
from functions.orders.logic.notify import plan_reminder_deliveries, schedule
from functions.orders.logic.ports import OrdersDeps

TIMEOUT_ACTOR = "system:acceptance-timeout"


@dataclass
class ReminderReport:
    reminded: int = 0
    refused: int = 0
    released: int = 0
    failed: int = 0


def run_reminders(deps: OrdersDeps, *, limit: int = 500) -> ReminderReport:
    """One pass over the orders whose window ran out (one index query for every tenant)."""
    report = ReminderReport()
    now = deps.clock()
    for tenant_id, order_id in deps.store.due_for_reminder(now, limit=limit):
        try:
            order = deps.store.get_order(tenant_id, order_id)
            if order is None or order.status != "received":
                deps.store.drop_reminder(tenant_id, order_id)
                report.released += 1
                continue
            tenant = deps.tenant(tenant_id)
            settings = tenant.orders
            if order.reminded_at is None:
                schedule(deps, plan_reminder_deliveries(deps, tenant, order))
                refuse_later = settings.on_acceptance_timeout == "refuse"
                next_due = (
                    now + timedelta(minutes=settings.acceptance_window_minutes)
                    if refuse_later
                    else None
                )
                deps.store.set_reminder(tenant_id, order_id, reminded_at=now, next_due=next_due)
                report.reminded += 1
            elif settings.on_acceptance_timeout == "refuse":
                change_status(
                    deps,
                    tenant_id,
                    order_id,
                    "refused",
                    actor=TIMEOUT_ACTOR,
                    reason="not accepted in time",
                    correlation_id=order.correlation_id,
                )
                report.refused += 1
            else:
                deps.store.drop_reminder(tenant_id, order_id)
                report.released += 1
        except AtendeError as exc:  # one order's trouble never stops the others
            report.failed += 1
            logger.warning(
                "acceptance reminder failed",
                extra={"tenant_id": tenant_id, "order_id": order_id, "error": exc.message},
            )
    return report
