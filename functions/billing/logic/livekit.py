"""LiveKit webhook envelopes → :class:`CallSignal` (pure parsing of the shared typed event)."""

from __future__ import annotations

from typing import Any

from atende_shared.models.envelope import InboundEvent
from atende_shared.models.livekit import LiveKitEvent
from atende_shared.rooms import tenant_from_metadata, tenant_from_room
from functions.billing.models.session import CallSignal, SignalKind

_ROOM_EVENTS = {SignalKind.ROOM_STARTED, SignalKind.ROOM_FINISHED}


def signal_from_livekit(event: InboundEvent) -> CallSignal | None:
    """The billing-relevant signal in a LiveKit event, or None when billing ignores it
    (track events, non-SIP participants such as the agent, rooms Atende did not name).
    A payload that is not a LiveKit event raises pydantic's ``ValidationError``."""
    try:
        kind = SignalKind(event.type)
    except ValueError:
        return None
    livekit = LiveKitEvent.model_validate(event.payload)
    room = livekit.room
    if room is None or not room.name:
        return None
    tenant_id = (
        event.tenant_id or tenant_from_room(room.name) or tenant_from_metadata(room.metadata)
    )
    if tenant_id is None:
        return None
    common: dict[str, Any] = {
        "tenant_id": tenant_id,
        "room_name": room.name,
        "room_sid": room.sid or None,
        "event_id": event.provider_event_id,
        "kind": kind,
        "at": event.occurred_at,
        "correlation_id": event.correlation_id,
    }
    if kind in _ROOM_EVENTS:
        return CallSignal(**common)
    participant = livekit.participant
    if participant is None or not participant.is_sip:
        return None  # the agent or a web test caller: not a billable phone call
    attributes = participant.attributes
    return CallSignal(
        **common,
        call_id=attributes.get("sip.callID") or None,
        caller_number=attributes.get("sip.phoneNumber") or None,
        dialled_number=attributes.get("sip.trunkPhoneNumber") or None,
        participant_identity=participant.identity or None,
        joined_at=participant.joined,
    )
