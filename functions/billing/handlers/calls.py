"""SQS consumer of the calls queue: LiveKit room/participant events and usage reports."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.consumers import consume
from atende_shared.observability import instrumented
from functions.billing.handlers.deps import default_deps
from functions.billing.logic.messages import process_calls_message
from functions.billing.settings import BillingSettings


def record_handler(record: SQSRecord) -> None:
    """Raises to fail this record only: transient failures are redelivered (the DLQ after
    max receives); permanent ones go to the DLQ at once (``atende_shared.consumers``)."""
    process_calls_message(default_deps(), record.body)


@instrumented(BillingSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return consume(event, context, consumer="billing-calls", handle=record_handler, fifo=False)
