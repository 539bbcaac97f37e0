"""LiveKit webhook payload (``livekit.WebhookEvent`` in its JSON form).

LiveKit serialises protobuf to JSON; field names may come as lowerCamelCase
(``createdAt``) or as proto names (``created_at``) and int64 values as strings, so both
spellings are accepted. Only the fields ingress needs are modelled; the rest of the event
travels untouched in the envelope's payload.
"""

from __future__ import annotations

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from functions.webhooks.models.common import EventId, ProviderDatetime


class _LiveKitModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class LiveKitRoom(_LiveKitModel):
    name: str = Field("", max_length=256)
    sid: str = Field("", max_length=256)


class LiveKitParticipant(_LiveKitModel):
    identity: str = Field("", max_length=256)
    sid: str = Field("", max_length=256)
    attributes: dict[str, str] = Field(default_factory=dict)


class LiveKitWebhook(_LiveKitModel):
    """``room_started``, ``room_finished``, ``participant_joined``, ``participant_left``,
    ``participant_connection_aborted``, ``track_*``, ``egress_*``..."""

    event: str = Field(min_length=1, max_length=128)
    id: EventId
    created_at: ProviderDatetime = Field(validation_alias=AliasChoices("createdAt", "created_at"))
    room: LiveKitRoom | None = None
    participant: LiveKitParticipant | None = None
