"""The call-session state machine. Pure: facts in, one decision out.

Facts from events are merged commutatively (earliest start, earliest end, flags only ever
set), so the merged session is the same whatever order the events arrived in; decisions
only fire on facts that no later event can change:

* the SIP caller left → rate from the caller's join to the leave;
* the caller's connection aborted (never connected) → release the reservation;
* the room finished → wait ``grace`` for a late ``participant_left`` (LiveKit may deliver it
  after ``room_finished``), then the sweeper rates at the room's end (or releases if no SIP
  caller was ever seen);
* nothing ended → after the tenant's maximum call length (+ grace) the sweeper rates the
  capped duration, or releases if no SIP caller was ever seen;
* the first start signal (room started or caller joined) places the reservation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from functions.billing.models.session import (
    MAX_SEEN_EVENTS,
    CallSession,
    CallSignal,
    SessionStatus,
    SignalKind,
)

#: AgentConfig.max_call_seconds can never be below this: the earliest a sweep can matter.
MIN_MAX_CALL_SECONDS = 60


@dataclass(frozen=True)
class Reserve:
    pass


@dataclass(frozen=True)
class Rate:
    end_at: datetime
    reason: str


@dataclass(frozen=True)
class Release:
    reason: str


Decision = Reserve | Rate | Release | None


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def merge(session: CallSession, signal: CallSignal) -> CallSession:
    """The session with ``signal``'s facts added (commutative, idempotent)."""
    seen = (*session.seen_event_ids, signal.event_id)[-MAX_SEEN_EVENTS:]
    changes: dict[str, object] = {
        "seen_event_ids": seen,
        "first_seen_at": _earliest(session.first_seen_at, signal.at),
        "room_sid": session.room_sid or signal.room_sid,
    }
    kind = signal.kind
    if kind is SignalKind.ROOM_STARTED:
        changes["room_started_at"] = _earliest(session.room_started_at, signal.at)
    elif kind is SignalKind.ROOM_FINISHED:
        changes["room_finished_at"] = _earliest(session.room_finished_at, signal.at)
    else:
        # A SIP participant event: every one carries the caller's identity and join time.
        changes.update(
            sip_seen=True,
            call_id=session.call_id or signal.call_id,
            caller_number=session.caller_number or signal.caller_number,
            dialled_number=session.dialled_number or signal.dialled_number,
            participant_identity=session.participant_identity or signal.participant_identity,
        )
        joined = signal.joined_at or (signal.at if kind is SignalKind.SIP_JOINED else None)
        changes["joined_at"] = _earliest(session.joined_at, joined)
        if kind is SignalKind.SIP_LEFT:
            changes["left_at"] = _earliest(session.left_at, signal.at)
        elif kind is SignalKind.SIP_ABORTED:
            changes["aborted_at"] = _earliest(session.aborted_at, signal.at)
    merged = session.model_copy(update=changes)
    return merged.model_copy(update={"sweep_at": None})


def decide(session: CallSession) -> Decision:
    """What an event-driven update must do now (the sweeper adds time-based decisions)."""
    if session.status is not SessionStatus.OPEN:
        return None
    if session.left_at is not None:
        return Rate(end_at=session.left_at, reason="caller_left")
    if session.aborted_at is not None:
        return Release(reason="connection_aborted")
    started = session.room_started_at is not None or session.sip_seen
    if started and not session.reservation_made and session.room_finished_at is None:
        return Reserve()
    return None


def decide_sweep(
    session: CallSession, *, now: datetime, grace_seconds: int, max_call_seconds: int
) -> Decision:
    """The sweeper's decision for a session whose end may never arrive."""
    decision = decide(session)
    if not isinstance(decision, Reserve | None):
        return decision
    grace = timedelta(seconds=grace_seconds)
    start = session.start_at or session.first_seen_at
    cap = start + timedelta(seconds=max_call_seconds) if start else None
    if session.room_finished_at is not None and now >= session.room_finished_at + grace:
        if not session.sip_seen:
            return Release(reason="never_connected")
        end = session.room_finished_at if cap is None else min(session.room_finished_at, cap)
        return Rate(end_at=end, reason="room_finished")
    if cap is not None and now >= cap + grace:
        if not session.sip_seen:
            return Release(reason="never_connected")
        return Rate(end_at=cap, reason="max_call_length")
    return None


def next_sweep_at(session: CallSession, *, grace_seconds: int) -> datetime | None:
    """When the sweeper should look at an open session next (None once it is closed)."""
    if session.status is not SessionStatus.OPEN:
        return None
    grace = timedelta(seconds=grace_seconds)
    if session.room_finished_at is not None:
        return session.room_finished_at + grace
    start = session.start_at or session.first_seen_at
    if start is None:
        return None
    return start + timedelta(seconds=MIN_MAX_CALL_SECONDS) + grace
