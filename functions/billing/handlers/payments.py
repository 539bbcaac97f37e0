"""SQS consumer of the payments FIFO queue: credits, refunds, chargebacks."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.consumers import consume
from atende_shared.observability import instrumented
from functions.billing.handlers.deps import default_deps
from functions.billing.logic.messages import process_payments_message
from functions.billing.settings import BillingSettings


def record_handler(record: SQSRecord) -> None:
    process_payments_message(default_deps(), record.body)


@instrumented(BillingSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    # FIFO, group = tenant: a transient failure skips the rest of that tenant's group (its
    # later payment events never overtake an earlier one); a permanent one (a payment that
    # can never be credited) goes to the DLQ alone, at once. Other tenants carry on.
    return consume(event, context, consumer="billing-payments", handle=record_handler, fifo=True)
