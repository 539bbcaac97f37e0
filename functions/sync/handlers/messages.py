"""WhatsApp messages (Z-API / Evolution via webhook ingress): recorded once per message."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.consumers import consume
from atende_shared.models.envelope import InboundEvent
from atende_shared.observability import instrumented
from atende_shared.settings import load_settings
from functions.sync.dal.messages import message_log
from functions.sync.logic.messages import record_message
from functions.sync.settings import MessagesSettings


@instrumented(MessagesSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    log = message_log(load_settings(MessagesSettings).main_table)

    def record_handler(record: SQSRecord) -> str:
        return record_message(InboundEvent.model_validate_json(record.body), log=log)

    return consume(event, context, consumer="sync-messages", handle=record_handler, fifo=True)
