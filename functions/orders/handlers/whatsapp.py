"""The WhatsApp conversation consumer on the ``messaging`` FIFO queue.

One message group per conversation (tenant + customer): SQS hands one customer's messages
over one at a time and in order, other customers' in parallel. The platform's one
poison-message policy (:func:`atende_shared.consumers.consume`): a message that can never
be handled (not an envelope) goes to the DLQ at once; a transient failure (storage, the
gateway, a concurrent turn) fails the record and, ``skip_group_on_error``, the rest of
*its* conversation in the batch (order kept) while other conversations carry on.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.consumers import consume
from atende_shared.models.envelope import InboundEvent
from atende_shared.observability import MetricUnit, instrumented, logger, metrics
from atende_shared.settings import load_settings
from functions.orders.handlers.whatsapp_deps import WhatsAppChannelSettings, whatsapp_deps
from functions.orders.logic.conversation import handle_message


@instrumented(WhatsAppChannelSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    deps = whatsapp_deps(load_settings(WhatsAppChannelSettings))

    def record_handler(record: SQSRecord) -> str:
        inbound = InboundEvent.model_validate_json(record.body)
        outcome = handle_message(inbound, deps)
        logger.info(
            "whatsapp message handled",
            extra={"tenant_id": inbound.tenant_id, "outcome": outcome},
        )
        metrics.add_metric(name=f"WhatsApp_{outcome}", unit=MetricUnit.Count, value=1)
        return outcome

    return consume(event, context, consumer="orders-whatsapp", handle=record_handler, fifo=True)
