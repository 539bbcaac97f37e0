"""SQS consumer of the payments FIFO queue: credits, refunds, chargebacks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
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
from functions.billing.logic.messages import process_payments_message
from functions.billing.settings import BillingSettings

# FIFO: after a failure the rest of that message group (tenant) is reported failed unprocessed,
# so its later payment events never overtake an earlier one; other tenants carry on.
processor = SqsFifoPartialProcessor(skip_group_on_error=True)  # group = tenant


def record_handler(record: SQSRecord) -> None:
    bind_correlation_id(correlation_id_from_sqs_record(record.raw_event))
    process_payments_message(default_deps(), record.body)


@instrumented(BillingSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
