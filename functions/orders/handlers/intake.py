"""SQS consumer of the kitchen queue: OrderPlaced -> the order record; call outcomes."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.observability import (
    bind_correlation_id,
    correlation_id_from_sqs_record,
    instrumented,
)
from functions.orders.handlers.deps import default_deps
from functions.orders.logic.intake import handle_kitchen_message
from functions.orders.settings import OrdersSettings

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    """Raises to fail this record only (redelivered; the DLQ after max receives)."""
    body = json.loads(record.body)
    detail = body.get("detail") if isinstance(body.get("detail"), dict) else {}
    bind_correlation_id(
        correlation_id_from_sqs_record(record.raw_event)
        or detail.get("correlation_id")
        or body.get("correlation_id")
    )
    handle_kitchen_message(default_deps(), body)


@instrumented(OrdersSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
