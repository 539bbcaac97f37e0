"""Queue message bodies → the logic function that handles them."""

from __future__ import annotations

import json
from typing import Any

from atende_shared.errors import MalformedRequest
from atende_shared.events import CallUsageReported, UnknownEventType, parse_event
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.observability import logger
from functions.billing.logic.calls import CallOutcome, handle_call_signal, handle_usage
from functions.billing.logic.engine import BillingDeps
from functions.billing.logic.livekit import signal_from_livekit
from functions.billing.logic.payments import handle_payment, signal_from_event


def _json(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise MalformedRequest("message body is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedRequest("message body is not a JSON object")
    return data


def process_calls_message(deps: BillingDeps, body: str) -> CallOutcome:
    """A calls-queue message: a LiveKit envelope, or an EventBridge ``CallUsageReported``."""
    data = _json(body)
    if "detail-type" in data:
        try:
            event = parse_event(str(data["detail-type"]), data.get("detail") or {})
        except UnknownEventType:
            logger.info("ignored event", extra={"detail_type": data.get("detail-type")})
            return CallOutcome("ignored")
        if isinstance(event, CallUsageReported):
            return handle_usage(deps, event)
        return CallOutcome("ignored")
    envelope = InboundEvent.model_validate(data)
    if envelope.provider is not Provider.LIVEKIT:
        return CallOutcome("ignored")
    signal = signal_from_livekit(envelope)
    if signal is None:
        return CallOutcome("ignored")
    return handle_call_signal(deps, signal)


def process_payments_message(deps: BillingDeps, body: str) -> CallOutcome:
    """A payments-queue message: an Asaas (or custom ``payment.*``) envelope."""
    envelope = InboundEvent.model_validate(_json(body))
    signal = signal_from_event(envelope)
    if signal is None:
        logger.info("ignored payment event", extra={"type": envelope.type})
        return CallOutcome("ignored")
    return handle_payment(deps, signal)
