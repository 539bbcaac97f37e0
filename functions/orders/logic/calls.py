"""Call records: billing's call session + the call's outcome and order + the transcript."""

from __future__ import annotations

from typing import Any

from atende_shared.errors import ConfigurationError, NotFound
from functions.orders.dal.protocol import CallInfo, CallSessions, Page, Transcripts
from functions.orders.logic.ports import OrdersDeps
from functions.orders.models.calls import CallRecord, CallSessionView


def _parts(deps: OrdersDeps) -> tuple[CallSessions, Transcripts]:
    if deps.sessions is None or deps.transcripts is None:
        raise ConfigurationError("call records need the call sessions and the transcripts")
    return deps.sessions, deps.transcripts


def _record(session: CallSessionView | None, info: CallInfo | None, call_id: str) -> CallRecord:
    outcome = info.outcome if info else None
    if outcome is None and info and info.order_id:
        outcome = "ordered"
    return CallRecord(
        call_id=(session.call_id if session else None) or call_id,
        room_name=session.room_name if session else "",
        status=session.status if session else "unknown",
        caller_number=session.caller_number if session else None,
        dialled_number=session.dialled_number if session else None,
        started_at=session.started_at if session else None,
        ended_at=session.ended_at if session else None,
        end_reason=session.end_reason if session else None,
        duration_seconds=session.duration_seconds if session else None,
        billed_seconds=session.billed_seconds if session else None,
        charged_cents=session.amount_cents if session else None,
        provider_cost_cents=session.usage.cost_cents if session and session.usage else None,
        outcome=outcome,
        summary=info.summary if info else None,
        order_id=info.order_id if info else None,
        order_number=info.order_number if info else None,
    )


def list_call_records(
    deps: OrdersDeps, tenant_id: str, *, limit: int, after: dict[str, Any] | None
) -> Page[CallRecord]:
    sessions, _ = _parts(deps)
    deps.tenant(tenant_id)
    page = sessions.list_sessions(tenant_id, limit=limit, after=after)
    ids = [s.call_id or s.room_name for s in page.items]
    infos = deps.store.get_call_infos(tenant_id, ids)
    return Page(
        items=[_record(s, infos.get(s.call_id or s.room_name), s.room_name) for s in page.items],
        position=page.position,
    )


def get_call_record(
    deps: OrdersDeps, tenant_id: str, call_id: str, *, with_transcript: bool = True
) -> CallRecord:
    sessions, transcripts = _parts(deps)
    deps.tenant(tenant_id)
    session = sessions.find_session(tenant_id, call_id)
    sip_call_id = (session.call_id if session else None) or call_id
    info = deps.store.get_call_info(tenant_id, sip_call_id)
    if session is None and info is None:
        raise NotFound(f"call {call_id!r} not found")
    record = _record(session, info, sip_call_id)
    around = (session.started_at or session.ended_at) if session else deps.clock()
    key = transcripts.find(tenant_id, sip_call_id, around)
    if key is None:
        return record
    return record.model_copy(
        update={
            "transcript_url": transcripts.presign(key, seconds=deps.presign_seconds),
            "transcript": transcripts.read(key) if with_transcript else None,
        }
    )
