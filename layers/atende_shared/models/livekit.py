"""The one typed LiveKit webhook event, shared by webhook ingress and billing.

Ingress builds it from the ``livekit.WebhookEvent`` protobuf that ``WebhookReceiver``
verified and parsed (:meth:`LiveKitEvent.from_proto`) and enqueues its JSON; billing reads
that JSON back with :meth:`LiveKitEvent.model_validate` and never walks a raw dict.

Field names are the protobuf names (``created_at``, ``joined_at_ms``); the camelCase JSON
names LiveKit sends (``createdAt``) are accepted too, so an envelope enqueued before this
model existed still reads. int64s arrive as strings in protobuf JSON. The participant kind
is the enum *name* (``"SIP"``, ``"AGENT"``...): a number is refused, there is one spelling.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AliasChoices, BaseModel, BeforeValidator, ConfigDict, Field, StrictStr

if TYPE_CHECKING:
    from livekit.protocol.webhook import WebhookEvent

#: ``livekit.ParticipantInfo.Kind`` names (livekit/protocol ``livekit_models.proto``).
PARTICIPANT_KINDS = frozenset(
    {"STANDARD", "INGRESS", "EGRESS", "SIP", "AGENT", "CONNECTOR", "BRIDGE"}
)


def _epoch_seconds(value: Any) -> datetime | None:
    return _epoch(value, millis=False)


def _epoch_millis(value: Any) -> datetime | None:
    return _epoch(value, millis=True)


def _epoch(value: Any, *, millis: bool) -> datetime | None:
    """Protobuf JSON int64 (a digit string or a number; 0/absent means unknown), or the ISO
    8601 text this model itself dumps to JSON."""
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    text = str(value).strip()
    if not text.lstrip("-").isdigit():
        try:
            parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not an epoch timestamp") from exc
        if parsed.tzinfo is None:
            raise ValueError(f"{value!r} has no UTC offset")
        return parsed.astimezone(UTC)
    number = int(text)
    if number <= 0:
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if millis else number, tz=UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ValueError(f"timestamp {value!r} is out of range") from exc


def _required_epoch(value: Any) -> datetime:
    moment = _epoch(value, millis=False)
    if moment is None:
        raise ValueError("a positive epoch timestamp is required")
    return moment


def _kind(value: Any) -> str:
    if not isinstance(value, str) or value not in PARTICIPANT_KINDS:
        raise ValueError(f"participant kind must be one of {sorted(PARTICIPANT_KINDS)}")
    return value


CreatedAt = Annotated[datetime, BeforeValidator(_required_epoch)]
EpochSeconds = Annotated[datetime | None, BeforeValidator(_epoch_seconds)]
EpochMillis = Annotated[datetime | None, BeforeValidator(_epoch_millis)]
ParticipantKind = Annotated[str, BeforeValidator(_kind)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)


class LiveKitRoom(_Model):
    name: str = Field("", max_length=256)
    sid: str = Field("", max_length=256)
    metadata: str = Field("", max_length=65_536)


class LiveKitParticipant(_Model):
    identity: str = Field("", max_length=256)
    sid: str = Field("", max_length=256)
    kind: ParticipantKind = "STANDARD"
    attributes: dict[StrictStr, StrictStr] = Field(default_factory=dict)
    joined_at: EpochSeconds = Field(None, validation_alias=AliasChoices("joined_at", "joinedAt"))
    joined_at_ms: EpochMillis = Field(
        None, validation_alias=AliasChoices("joined_at_ms", "joinedAtMs")
    )

    @property
    def joined(self) -> datetime | None:
        """When the participant joined (milliseconds when LiveKit sent them)."""
        return self.joined_at_ms or self.joined_at

    @property
    def is_sip(self) -> bool:
        return self.kind == "SIP"


class LiveKitEvent(_Model):
    """``room_started``, ``room_finished``, ``participant_joined``, ``participant_left``,
    ``participant_connection_aborted``, ``track_*``, ``egress_*``..."""

    event: str = Field(min_length=1, max_length=128)
    id: str = Field(min_length=1, max_length=256)
    created_at: CreatedAt = Field(validation_alias=AliasChoices("created_at", "createdAt"))
    room: LiveKitRoom | None = None
    participant: LiveKitParticipant | None = None

    @classmethod
    def from_proto(cls, proto: WebhookEvent) -> LiveKitEvent:
        """The event ``WebhookReceiver.receive`` parsed (enum names, proto field names)."""
        from google.protobuf.json_format import MessageToDict

        return cls.model_validate(MessageToDict(proto, preserving_proto_field_name=True))

    @property
    def room_name(self) -> str:
        return self.room.name if self.room else ""
