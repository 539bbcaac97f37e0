"""Shared bits of the sync SQS consumers."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.observability import bind_correlation_id, correlation_id_from_sqs_record


def bind(record: SQSRecord) -> str:
    """Bind and return the record's correlation id (the message id when none was sent)."""
    correlation_id = correlation_id_from_sqs_record(record.raw_event) or record.message_id
    bind_correlation_id(correlation_id)
    return correlation_id


def remaining_ms(context: Any) -> int:
    """Milliseconds left in this invocation (generous when run outside Lambda)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return int(getter()) if callable(getter) else 15 * 60 * 1000


def fifo_processor() -> SqsFifoPartialProcessor:
    """FIFO partial processor: after a failure the rest of the batch is returned untouched
    (order kept). A batch that fails entirely is answered as item failures, not raised,
    which SQS treats the same way and the local pump can read."""
    processor = SqsFifoPartialProcessor()
    processor.raise_on_entire_batch_failure = False
    return processor
