"""Billing reads LiveKit events through the one shared typed model
(``atende_shared.models.livekit.LiveKitEvent``), never by walking the raw dict."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from atende_shared.consumers import permanent_reason
from atende_shared.models.livekit import LiveKitEvent
from functions.billing.logic.livekit import signal_from_livekit
from tests.billing.builders import livekit_envelope, livekit_payload, room_for
from tests.billing.conftest import TENANT

AT = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def _joined(kind: object) -> dict:
    payload = livekit_payload(
        "participant_joined", room_name=room_for(TENANT, "k"), at=AT, event_id="EV_k"
    )
    payload["participant"]["kind"] = kind
    return payload


def test_the_participant_kind_has_one_spelling_the_enum_name() -> None:
    # A SIP caller (kind "SIP", as protobuf JSON names the enum) is billable
    signal = signal_from_livekit(livekit_envelope(TENANT, _joined("SIP")))
    assert signal is not None
    assert signal.call_id == "SCL_test"
    # The agent is not
    assert signal_from_livekit(livekit_envelope(TENANT, _joined("AGENT"))) is None


@pytest.mark.parametrize("kind", [3, "3", "sip", True])
def test_a_participant_kind_as_a_number_or_other_spelling_is_refused(kind: object) -> None:
    # It used to be read as SIP when it was "3" or 3: now it is not a LiveKit event (poison)
    with pytest.raises(ValidationError) as refused:
        signal_from_livekit(livekit_envelope(TENANT, _joined(kind)))
    assert permanent_reason(refused.value) == "invalid_message"


def test_the_model_reads_what_webhook_receiver_parsed_and_its_own_json() -> None:
    from google.protobuf.json_format import ParseDict
    from livekit.protocol.webhook import WebhookEvent

    payload = _joined("SIP")
    proto = ParseDict(payload, WebhookEvent(), ignore_unknown_fields=True)
    event = LiveKitEvent.from_proto(proto)
    assert event.participant is not None
    assert (event.participant.kind, event.participant.attributes["sip.callID"]) == (
        "SIP",
        "SCL_test",
    )
    assert LiveKitEvent.model_validate(event.model_dump(mode="json")) == event
    assert LiveKitEvent.model_validate(payload) == event  # camelCase JSON too
