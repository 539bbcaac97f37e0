"""LiveKit webhook envelopes → :class:`CallSignal` (pure parsing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from atende_shared.models.envelope import InboundEvent
from atende_shared.rooms import tenant_from_metadata, tenant_from_room
from functions.billing.models.session import CallSignal, SignalKind

_ROOM_EVENTS = {SignalKind.ROOM_STARTED, SignalKind.ROOM_FINISHED}


def _epoch(value: Any, *, millis: bool) -> datetime | None:
    """Protobuf JSON int64s arrive as strings; 0/absent means unknown."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    if number <= 0:
        return None
    return datetime.fromtimestamp(number / 1000 if millis else number, tz=UTC)


def signal_from_livekit(event: InboundEvent) -> CallSignal | None:
    """The billing-relevant signal in a LiveKit event, or None when billing ignores it
    (track events, non-SIP participants such as the agent, rooms Atende did not name)."""
    try:
        kind = SignalKind(event.type)
    except ValueError:
        return None
    payload = event.payload
    room = payload.get("room") or {}
    room_name = room.get("name")
    if not isinstance(room_name, str) or not room_name:
        return None
    tenant_id = (
        event.tenant_id or tenant_from_room(room_name) or tenant_from_metadata(room.get("metadata"))
    )
    if tenant_id is None:
        return None
    common: dict[str, Any] = {
        "tenant_id": tenant_id,
        "room_name": room_name,
        "room_sid": room.get("sid") or None,
        "event_id": event.provider_event_id,
        "kind": kind,
        "at": event.occurred_at,
        "correlation_id": event.correlation_id,
    }
    if kind in _ROOM_EVENTS:
        return CallSignal(**common)
    participant = payload.get("participant") or {}
    if str(participant.get("kind", "")).upper() not in {"SIP", "3"}:
        return None  # the agent or a web test caller: not a billable phone call
    attributes = participant.get("attributes") or {}
    joined = _epoch(participant.get("joinedAtMs"), millis=True) or _epoch(
        participant.get("joinedAt"), millis=False
    )
    return CallSignal(
        **common,
        call_id=attributes.get("sip.callID") or None,
        caller_number=attributes.get("sip.phoneNumber") or None,
        dialled_number=attributes.get("sip.trunkPhoneNumber") or None,
        participant_identity=participant.get("identity") or None,
        joined_at=joined,
    )
