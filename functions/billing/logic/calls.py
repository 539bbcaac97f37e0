"""Call sessions: LiveKit signals and usage reports in, reservations and postings out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from atende_shared.errors import AtendeError, NotFound
from atende_shared.events import CallEnded, CallUsageReported
from atende_shared.models.tenant import Tenant, TenantStatus
from atende_shared.observability import logger
from atende_shared.rooms import tenant_from_room
from functions.billing.dal.protocol import Transaction
from functions.billing.logic.costs import price_usage
from functions.billing.logic.engine import BillingDeps, flush_outbox, post, run_unit
from functions.billing.logic.rating import (
    duration_seconds,
    minimum_charge_cents,
    rate_call,
    reservation_cents,
    usage_month,
)
from functions.billing.logic.sessions import (
    MIN_MAX_CALL_SECONDS,
    Decision,
    Rate,
    Release,
    Reserve,
    decide,
    decide_sweep,
    merge,
    next_sweep_at,
)
from functions.billing.models.ledger import BalanceState, EntryKind, NewEntry, OutboxItem
from functions.billing.models.session import (
    MAX_SEEN_EVENTS,
    CallSession,
    CallSignal,
    SessionStatus,
    SignalKind,
)


class UsageBeforeSession(AtendeError):
    """A usage report names a call id billing has not seen yet: retry later (SQS)."""

    code = "usage_before_session"


@dataclass(frozen=True)
class CallOutcome:
    status: str  # ignored | duplicate | updated | reserved | rated | released | not_due
    session: CallSession | None = None
    flush: bool = field(default=False, compare=False)
    #: Outbox items this outcome's own commit wrote (flushed without re-reading them).
    outbox: tuple[OutboxItem, ...] | None = field(default=None, compare=False)


def call_business_id(room_name: str) -> str:
    """The idempotency key of a call's charge: one room per call, so one charge per room."""
    return f"call:{room_name}"


def handle_call_signal(deps: BillingDeps, signal: CallSignal) -> CallOutcome:
    """Fold one LiveKit signal into its session; reserve/rate/release when it decides to."""
    try:
        tenant = deps.tenant(signal.tenant_id)
    except NotFound:
        logger.warning("call event for an unknown tenant", extra={"tenant_id": signal.tenant_id})
        return CallOutcome("ignored")

    def unit() -> CallOutcome:
        stored = deps.store.get_session(signal.tenant_id, signal.room_name)
        session = stored or CallSession(tenant_id=signal.tenant_id, room_name=signal.room_name)
        if signal.event_id in session.seen_event_ids:
            # A redelivery after a crash between the rating commit and the outbox flush
            # must flush. Only the caller's leave rates a call from an event (Rate is
            # decided on left_at, which only that event sets; a release writes no outbox;
            # the sweeper flushes its own), so other duplicates spare the query.
            pending = (
                session.status is not SessionStatus.OPEN and signal.kind is SignalKind.SIP_LEFT
            )
            return CallOutcome("duplicate", session, flush=pending)
        merged = merge(session, signal)
        aliases = ((merged.call_id, merged.room_name),) if merged.call_id != session.call_id else ()
        return _execute(deps, tenant, merged, decide(merged), signal.correlation_id, aliases)

    outcome = run_unit(deps, unit)
    deps.fault("after_commit")
    if outcome.flush:
        flush_outbox(deps, signal.tenant_id, outcome.outbox)
    return outcome


def _execute(
    deps: BillingDeps,
    tenant: Tenant,
    merged: CallSession,
    decision: Decision,
    correlation_id: str,
    aliases: tuple[tuple[str | None, str], ...] = (),
) -> CallOutcome:
    """Commit ``decision`` for ``merged`` (whose ``version`` is still the stored one)."""
    store, now, plan = deps.store, deps.clock(), tenant.plan
    tenant_id = tenant.tenant_id
    version = merged.version + 1
    links = tuple((c, r) for c, r in aliases if c)
    if decision is None:
        session = merged.model_copy(
            update={
                "version": version,
                "sweep_at": next_sweep_at(merged, grace_seconds=deps.end_grace_seconds),
            }
        )
        store.commit(Transaction(tenant_id=tenant_id, session=session, aliases=links))
        return CallOutcome("updated", session)
    balance = store.get_balance(tenant_id)
    if isinstance(decision, Reserve):
        hold = reservation_cents(plan)
        underfunded = balance.available_cents < minimum_charge_cents(plan)
        if underfunded:
            logger.warning(
                "reservation not covered by the balance",
                extra={"tenant_id": tenant_id, "room": merged.room_name},
            )
        reserved = merged.model_copy(
            update={"reserved_cents": hold, "reservation_made": True, "underfunded": underfunded}
        )
        session = reserved.model_copy(
            update={
                "version": version,
                "sweep_at": next_sweep_at(reserved, grace_seconds=deps.end_grace_seconds),
            }
        )
        new_balance = balance.model_copy(
            update={
                "reserved_cents": balance.reserved_cents + hold,
                "version": balance.version + 1,
                "updated_at": now,
            }
        )
        store.commit(
            Transaction(tenant_id=tenant_id, balance=new_balance, session=session, aliases=links)
        )
        return CallOutcome("reserved", session)
    if isinstance(decision, Release):
        session = merged.model_copy(
            update={
                "status": SessionStatus.RELEASED,
                "reserved_cents": 0,
                "end_reason": decision.reason,
                "closed_at": now,
                "version": version,
                "sweep_at": None,
            }
        )
        released = None
        if merged.reserved_cents:
            released = balance.model_copy(
                update={
                    "reserved_cents": balance.reserved_cents - merged.reserved_cents,
                    "version": balance.version + 1,
                    "updated_at": now,
                }
            )
        store.commit(
            Transaction(tenant_id=tenant_id, balance=released, session=session, aliases=links)
        )
        return CallOutcome("released", session)
    return _rate(deps, tenant, merged, decision, correlation_id, links, balance, now)


def _rate(
    deps: BillingDeps,
    tenant: Tenant,
    merged: CallSession,
    decision: Rate,
    correlation_id: str,
    links: tuple[tuple[str, str], ...],
    balance: BalanceState,
    now: datetime,
) -> CallOutcome:
    plan = tenant.plan
    start = merged.start_at or decision.end_at
    duration = duration_seconds(start, decision.end_at)
    month = usage_month(start, tenant.time_zone)
    rating = rate_call(
        plan, duration=duration, included_used_seconds=balance.included_used.get(month, 0)
    )
    amount = rating.amount_cents
    if tenant.status is TenantStatus.SUSPENDED:
        # The agent only refused politely: never charge beyond the minimum.
        amount = min(amount, minimum_charge_cents(plan))
    business_id = call_business_id(merged.room_name)
    entries = []
    if amount > 0:
        entries.append(
            NewEntry(
                business_id=business_id,
                kind=EntryKind.CALL_CHARGE,
                amount_cents=-amount,
                description=f"Call {merged.caller_number or ''} {rating.billed_seconds}s".strip(),
                reference={"room_name": merged.room_name, "call_id": merged.call_id or ""},
                occurred_at=decision.end_at,
            )
        )
    ended = CallEnded(
        tenant_id=tenant.tenant_id,
        correlation_id=correlation_id,
        call_id=merged.call_id or merged.room_name,
        duration_seconds=duration,
        billed_seconds=rating.billed_seconds,
        amount_cents=amount,
        end_reason=decision.reason,
    )
    posted = post(
        balance,
        plan,
        entries,
        now=now,
        correlation_id=correlation_id,
        reserve_delta=-merged.reserved_cents,
        included=(month, rating.included_seconds),
        events=(ended,),
    )
    session = merged.model_copy(
        update={
            "status": SessionStatus.RATED,
            "reserved_cents": 0,
            "end_reason": decision.reason,
            "ended_at": decision.end_at,
            "duration_seconds": duration,
            "billed_seconds": rating.billed_seconds,
            "included_seconds": rating.included_seconds,
            "amount_cents": amount,
            "usage_month": month,
            "closed_at": now,
            "version": merged.version + 1,
            "sweep_at": None,
        }
    )
    deps.store.commit(
        Transaction(
            tenant_id=tenant.tenant_id,
            balance=posted.balance,
            entries=posted.entries,
            applied=(business_id,),
            session=session,
            outbox=posted.outbox,
            aliases=links,
        )
    )
    return CallOutcome("rated", session, flush=True, outbox=posted.outbox)


def handle_usage(deps: BillingDeps, report: CallUsageReported) -> CallOutcome:
    """Attach the agent's usage and its priced cost to the call (margin = amount - cost)."""
    tenant_id = report.tenant_id
    room: str | None = report.call_id
    if tenant_from_room(report.call_id) != tenant_id:
        room = deps.store.find_room_by_call_id(tenant_id, report.call_id)
    if room is None:
        raise UsageBeforeSession(f"call {report.call_id!r} not known yet for {tenant_id}")
    cost = price_usage(report, deps.prices)
    room_name = room

    def unit() -> CallOutcome:
        stored = deps.store.get_session(tenant_id, room_name)
        session = stored or CallSession(tenant_id=tenant_id, room_name=room_name)
        if report.event_id in session.seen_event_ids:
            return CallOutcome("duplicate", session)
        updated = session.model_copy(
            update={
                "usage": cost,
                "seen_event_ids": (*session.seen_event_ids, report.event_id)[-MAX_SEEN_EVENTS:],
                "version": session.version + 1,
            }
        )
        deps.store.commit(Transaction(tenant_id=tenant_id, session=updated))
        return CallOutcome("updated", updated)

    return run_unit(deps, unit)


@dataclass
class SweepReport:
    examined: int = 0
    closed: int = 0
    failed: int = 0
    outbox_flushed: int = 0
    #: Sessions still open after the sweep: sampled every run as the calls-in-progress gauge.
    open_calls: int = 0


def sweep(deps: BillingDeps, *, limit: int = 500) -> SweepReport:
    """Close sessions whose end never arrived (or whose room finished without the caller's
    ``participant_left``), capped at the tenant's maximum call length."""
    now = deps.clock()
    report = SweepReport()
    for tenant_id, room_name in deps.store.due_sessions(now, limit=limit):
        report.examined += 1
        try:
            outcome = sweep_one(deps, tenant_id, room_name, now=now)
        except Exception:  # one bad session must not stop the sweep of the others
            logger.exception("sweep failed", extra={"tenant_id": tenant_id, "room": room_name})
            report.failed += 1
            continue
        if outcome.status in {"rated", "released"}:
            report.closed += 1
    # Safety net: events a crashed consumer committed but never published (and whose
    # message will not come back, e.g. an admin credit request that was not retried).
    for tenant_id in deps.store.tenants_with_pending_outbox(limit=limit):
        try:
            report.outbox_flushed += flush_outbox(deps, tenant_id)
        except Exception:
            logger.exception("outbox flush failed", extra={"tenant_id": tenant_id})
            report.failed += 1
    report.open_calls = deps.store.count_open_sessions()
    return report


def sweep_one(deps: BillingDeps, tenant_id: str, room_name: str, *, now: datetime) -> CallOutcome:
    tenant = deps.tenant(tenant_id)
    max_call = deps.tenants.get_agent_config(tenant_id).max_call_seconds

    def unit() -> CallOutcome:
        session = deps.store.get_session(tenant_id, room_name)
        if session is None or session.status is not SessionStatus.OPEN:
            return CallOutcome("ignored", session)
        decision = decide_sweep(
            session, now=now, grace_seconds=deps.end_grace_seconds, max_call_seconds=max_call
        )
        if decision is None or isinstance(decision, Reserve):
            due = _true_due(session, deps.end_grace_seconds, max_call)
            if due is None or (session.sweep_at is not None and due <= session.sweep_at):
                return CallOutcome("not_due", session)
            later = session.model_copy(update={"sweep_at": due, "version": session.version + 1})
            deps.store.commit(Transaction(tenant_id=tenant_id, session=later))
            return CallOutcome("not_due", later)
        return _execute(deps, tenant, session, decision, f"sweeper-{room_name}")

    outcome = run_unit(deps, unit)
    if outcome.flush:
        flush_outbox(deps, tenant_id, outcome.outbox)
    return outcome


def _true_due(session: CallSession, grace: int, max_call: int) -> datetime | None:
    """The precise time the sweeper can decide, now that it knows the tenant's max length."""
    if session.room_finished_at is not None:
        return session.room_finished_at + timedelta(seconds=grace)
    start = session.start_at or session.first_seen_at
    if start is None:
        return None
    return start + timedelta(seconds=max(max_call, MIN_MAX_CALL_SECONDS) + grace)
