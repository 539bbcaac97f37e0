"""SQS consumer of the kitchen queue: OrderPlaced -> the order record; call outcomes."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.consumers import consume
from atende_shared.observability import instrumented
from functions.orders.handlers.deps import default_deps
from functions.orders.logic.intake import handle_kitchen_message
from functions.orders.settings import OrdersSettings


def record_handler(record: SQSRecord) -> None:
    """Raises to fail this record only: transient failures are redelivered (the DLQ after
    max receives); permanent ones go to the DLQ at once (``atende_shared.consumers``)."""
    handle_kitchen_message(default_deps(), json.loads(record.body))


@instrumented(OrdersSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> Any:
    return consume(event, context, consumer="orders-intake", handle=record_handler, fifo=False)
