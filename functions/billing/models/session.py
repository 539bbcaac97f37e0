"""A call session: the facts learned from LiveKit events and what billing did with them."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId


class SessionStatus(StrEnum):
    OPEN = "open"
    RATED = "rated"  # charged (possibly 0: included minutes, free ring window)
    RELEASED = "released"  # never connected: reservation returned, nothing charged


class SignalKind(StrEnum):
    ROOM_STARTED = "room_started"
    ROOM_FINISHED = "room_finished"
    SIP_JOINED = "participant_joined"
    SIP_LEFT = "participant_left"
    SIP_ABORTED = "participant_connection_aborted"


class CallSignal(BaseModel):
    """One LiveKit event reduced to what the session needs (see logic.livekit)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    room_name: str = Field(min_length=1, max_length=256)
    event_id: str = Field(min_length=1, max_length=256)
    kind: SignalKind
    at: AwareDatetime
    correlation_id: str = "-"
    room_sid: str | None = None
    call_id: str | None = None  # sip.callID
    caller_number: str | None = None
    dialled_number: str | None = None
    participant_identity: str | None = None
    joined_at: AwareDatetime | None = None  # ParticipantInfo.joinedAt(Ms), same in every event


class UsageCost(BaseModel):
    """What the agent reported and what it cost (BRL cents, rounded half-up)."""

    model_config = ConfigDict(frozen=True)

    stt_audio_seconds: float = 0
    llm_prompt_tokens: int = 0
    llm_completion_tokens: int = 0
    tts_characters: int = 0
    models: dict[str, str] = Field(default_factory=dict)
    stt_cost_cents: int = 0
    llm_cost_cents: int = 0
    tts_cost_cents: int = 0
    cost_cents: int = 0
    reported_at: AwareDatetime | None = None


#: Bounded memory of applied event ids (call sessions and payments): each sees at most a
#: handful of distinct events.
MAX_SEEN_EVENTS = 64


class CallSession(BaseModel):
    """Item ``CALL#<room name>``: the room is unique per call (dispatch rule, one room each)."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    room_name: str
    version: int = Field(0, ge=0, description="0 = not stored yet")
    status: SessionStatus = SessionStatus.OPEN
    seen_event_ids: tuple[str, ...] = ()
    room_sid: str | None = None
    call_id: str | None = None
    caller_number: str | None = None
    dialled_number: str | None = None
    participant_identity: str | None = None
    # Facts, merged commutatively (min of starts, min of ends) so order never matters.
    room_started_at: AwareDatetime | None = None
    room_finished_at: AwareDatetime | None = None
    joined_at: AwareDatetime | None = None
    sip_seen: bool = False
    left_at: AwareDatetime | None = None
    aborted_at: AwareDatetime | None = None
    first_seen_at: AwareDatetime | None = None
    # Reservation
    reserved_cents: int = Field(0, ge=0)
    reservation_made: bool = False
    underfunded: bool = False
    # Outcome
    end_reason: str | None = None
    ended_at: AwareDatetime | None = None
    duration_seconds: int | None = None
    billed_seconds: int | None = None
    included_seconds: int | None = None
    amount_cents: int | None = None
    usage_month: str | None = None
    closed_at: AwareDatetime | None = None
    usage: UsageCost | None = None
    #: When the sweeper should look at this open session next (indexed while open).
    sweep_at: AwareDatetime | None = None

    @property
    def start_at(self) -> AwareDatetime | None:
        """When the caller joined; the room's start when no participant info arrived."""
        return self.joined_at or self.room_started_at

    @property
    def margin_cents(self) -> int | None:
        if self.amount_cents is None or self.usage is None:
            return None
        return self.amount_cents - self.usage.cost_cents
