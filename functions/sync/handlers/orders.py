"""Orders queue consumer: ``OrderPlaced`` (EventBridge event as the body) → the ERP."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.consumers import consume
from atende_shared.errors import MalformedRequest
from atende_shared.events import OrderPlaced, parse_event
from atende_shared.observability import instrumented, logger
from atende_shared.settings import load_settings
from functions.sync.handlers.deps import build_order_writer
from functions.sync.settings import OrdersSettings


def _order(body: str) -> OrderPlaced:
    envelope = json.loads(body)
    if not isinstance(envelope, dict):
        raise MalformedRequest("orders message is not a JSON object")
    event = parse_event(envelope.get("detail-type", ""), envelope.get("detail") or {})
    if not isinstance(event, OrderPlaced):
        raise MalformedRequest(f"orders queue got {event.detail_type}")
    return event


@instrumented(OrdersSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    writer = build_order_writer(load_settings(OrdersSettings))

    def record_handler(record: SQSRecord) -> str:
        result = writer.write(_order(record.body))
        logger.info(
            "order write-back",
            extra={
                "order_id": result.order_id,
                "status": result.status,
                "external_id": result.external_id,
            },
        )
        return result.status.value

    # A refused order (``OrderRefused``) stays transient: retried until the DLQ so a fixed
    # configuration can be replayed; an unreadable message goes to the DLQ at once.
    return consume(event, context, consumer="sync-orders", handle=record_handler, fifo=False)
