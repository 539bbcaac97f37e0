"""The WhatsApp conversation consumer on the ``messaging`` FIFO queue.

One message group per conversation (tenant + customer): SQS hands one customer's messages
over one at a time and in order, other customers' in parallel. ``skip_group_on_error``:
when a message fails, the rest of *its* conversation in this batch is returned untouched
(order kept, retried after it) while other conversations' messages are still processed —
a poison message reaches the DLQ alone, after the queue's receive count.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.models.envelope import InboundEvent
from atende_shared.observability import (
    MetricUnit,
    bind_correlation_id,
    correlation_id_from_sqs_record,
    instrumented,
    logger,
    metrics,
)
from atende_shared.settings import load_settings
from functions.orders.handlers.whatsapp_deps import WhatsAppChannelSettings, whatsapp_deps
from functions.orders.logic.conversation import handle_message


def _processor() -> SqsFifoPartialProcessor:
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    processor.raise_on_entire_batch_failure = False  # answered as item failures instead
    return processor


@instrumented(WhatsAppChannelSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps = whatsapp_deps(load_settings(WhatsAppChannelSettings))

    def record_handler(record: SQSRecord) -> str:
        bind_correlation_id(correlation_id_from_sqs_record(record.raw_event) or record.message_id)
        inbound = InboundEvent.model_validate_json(record.body)
        outcome = handle_message(inbound, deps)
        logger.info(
            "whatsapp message handled",
            extra={"tenant_id": inbound.tenant_id, "outcome": outcome},
        )
        metrics.add_metric(name=f"WhatsApp_{outcome}", unit=MetricUnit.Count, value=1)
        return outcome

    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=_processor(), context=context
        )
    )
