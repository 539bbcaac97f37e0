"""Provisioning queue consumer: ensure/release numbers, apply tenant suspensions.

Partial batch failures: a record whose work should be retried (LiveKit unavailable,
lease busy) raises and only that record returns to the queue; after the queue's
``max_receive_count`` it lands in the DLQ.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.errors import DependencyUnavailable
from atende_shared.observability import (
    bind_correlation_id,
    correlation_id_from_sqs_record,
    instrumented,
    logger,
)
from atende_shared.settings import load_settings
from functions.provision.handlers.deps import sip_deps
from functions.provision.logic.jobs import run_message
from functions.provision.settings import WorkerSettings

# Whole-batch failures are reported item by item too (same retry, clearer logs and tests).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


async def _run(body: dict[str, Any]) -> str:
    async with sip_deps(load_settings(WorkerSettings)) as deps:
        return await run_message(body, deps)


#: Don't start a record with less time left than this: one ensure can take tens of
#: seconds when LiveKit is slow, and a Lambda timeout would fail the whole batch.
MIN_REMAINING_MS = 30_000


class OutOfTime(DependencyUnavailable):
    """Not enough invocation time left; the record goes back to the queue untouched."""

    code = "out_of_time"


def record_handler(record: SQSRecord, lambda_context: LambdaContext | None = None) -> str:
    bind_correlation_id(correlation_id_from_sqs_record(record.raw_event))
    if (
        lambda_context is not None
        and lambda_context.get_remaining_time_in_millis() < MIN_REMAINING_MS
    ):
        raise OutOfTime("too little time left in this invocation; retried from the queue")
    outcome = asyncio.run(_run(json.loads(record.body)))
    logger.info("provisioning message done", extra={"outcome": outcome})
    return outcome


@instrumented(WorkerSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
    )
