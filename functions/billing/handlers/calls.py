"""SQS consumer of the calls queue: LiveKit room/participant events and usage reports."""

from __future__ import annotations

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
from functions.billing.handlers.deps import default_deps
from functions.billing.logic.messages import process_calls_message
from functions.billing.settings import BillingSettings

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> None:
    """Raises to fail this record only (SQS redelivers it; the DLQ after max receives)."""
    bind_correlation_id(correlation_id_from_sqs_record(record.raw_event))
    process_calls_message(default_deps(), record.body)


@instrumented(BillingSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
