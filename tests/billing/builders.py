"""Messages as the webhook ingress and the voice agent produce them (built by tests)."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from atende_shared.events import CallUsageReported
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.rooms import room_prefix
from functions.billing.models.session import CallSignal


def room_for(tenant_id: str, suffix: str | None = None) -> str:
    return f"{room_prefix(tenant_id)}{suffix or uuid.uuid4().hex[:10]}"


def livekit_payload(
    event: str,
    *,
    room_name: str,
    at: datetime,
    event_id: str,
    joined_at: datetime | None = None,
    participant_kind: str = "SIP",
    call_id: str = "SCL_test",
    caller: str = "+5511988887777",
    dialled: str = "+551130000000",
) -> dict[str, Any]:
    """The LiveKit webhook JSON (protobuf JSON names, int64s as strings)."""
    payload: dict[str, Any] = {
        "event": event,
        "room": {"sid": f"RM_{room_name[-6:]}", "name": room_name, "emptyTimeout": 300},
        "id": event_id,
        "createdAt": str(int(at.timestamp())),
    }
    if event.startswith("participant_"):
        joined = joined_at or at
        payload["participant"] = {
            "sid": "PA_caller",
            "identity": f"sip_{caller}",
            "state": "ACTIVE" if event == "participant_joined" else "DISCONNECTED",
            "joinedAt": str(int(joined.timestamp())),
            "joinedAtMs": str(int(joined.timestamp() * 1000)),
            "kind": participant_kind,
            "attributes": {
                "sip.callID": call_id,
                "sip.phoneNumber": caller,
                "sip.trunkPhoneNumber": dialled,
                "sip.trunkID": "ST_test",
                "sip.ruleID": "SDR_test",
            },
        }
    return payload


def livekit_signal(tenant_id: str | None, payload: dict[str, Any]) -> CallSignal:
    """The billing signal of a LiveKit payload (asserting billing does not ignore it)."""
    from functions.billing.logic.livekit import signal_from_livekit

    signal = signal_from_livekit(livekit_envelope(tenant_id, payload))
    assert signal is not None
    return signal


def livekit_envelope(tenant_id: str | None, payload: dict[str, Any]) -> InboundEvent:
    """What ingress enqueues for a LiveKit webhook."""
    return InboundEvent(
        tenant_id=tenant_id,
        provider=Provider.LIVEKIT,
        provider_event_id=payload["id"],
        type=payload["event"],
        occurred_at=datetime.fromtimestamp(int(payload["createdAt"]), tz=UTC),
        correlation_id=f"lk-{payload['id']}",
        payload=payload,
    )


def asaas_payload(
    event: str,
    *,
    payment_id: str,
    value: float,
    event_id: str | None = None,
    customer: str = "cus_000001",
    external_reference: str | None = None,
    refunds: list[dict[str, Any]] | None = None,
    status: str | None = None,
) -> dict[str, Any]:
    payment: dict[str, Any] = {
        "object": "payment",
        "id": payment_id,
        "customer": customer,
        "value": value,
        "netValue": round(value * 0.97, 2),
        "billingType": "PIX",
        "status": status or event.removeprefix("PAYMENT_"),
        "externalReference": external_reference,
    }
    if refunds is not None:
        payment["refunds"] = refunds
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:16]}",
        "event": event,
        "dateCreated": "2026-11-22 09:00:00",
        "payment": payment,
    }


def asaas_envelope(tenant_id: str, payload: dict[str, Any]) -> InboundEvent:
    return InboundEvent(
        tenant_id=tenant_id,
        provider=Provider.ASAAS,
        provider_event_id=payload["id"],
        type=payload["event"],
        occurred_at=datetime(2026, 11, 22, 12, 0, tzinfo=UTC),
        correlation_id=f"asaas-{payload['id']}",
        payload=payload,
    )


def usage_report(tenant_id: str, call_id: str, **overrides: Any) -> CallUsageReported:
    fields: dict[str, Any] = {
        "tenant_id": tenant_id,
        "correlation_id": f"usage-{call_id}",
        "call_id": call_id,
        "stt_audio_seconds": 180.0,
        "llm_prompt_tokens": 20_000,
        "llm_completion_tokens": 1_000,
        "tts_characters": 2_000,
        "models": {"stt": "deepgram/nova-3", "llm": "openai/gpt-4o-mini", "tts": "openai/tts-1"},
    }
    fields.update(overrides)
    return CallUsageReported(**fields)


def eventbridge_body(event: CallUsageReported) -> str:
    """The SQS body EventBridge delivers for a rule targeting the calls queue."""
    return json.dumps(
        {
            "version": "0",
            "id": uuid.uuid4().hex,
            "detail-type": event.detail_type,
            "source": "atende",
            "account": "123456789012",
            "time": event.occurred_at.isoformat(),
            "region": "us-east-1",
            "resources": [],
            "detail": event.model_dump(mode="json"),
        }
    )
