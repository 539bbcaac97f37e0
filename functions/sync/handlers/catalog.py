"""Catalog queue consumer: webhook fast path, scheduled/admin sync jobs, pushed batches."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.observability import instrumented, logger
from atende_shared.settings import load_settings
from functions.sync.handlers._sqs import bind, fifo_processor, remaining_ms
from functions.sync.handlers.deps import build_worker
from functions.sync.settings import CatalogWorkerSettings


@instrumented(CatalogWorkerSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(CatalogWorkerSettings)
    safety_ms = settings.run_safety_seconds * 1000

    def record_handler(record: SQSRecord) -> str:
        correlation_id = bind(record)
        worker = build_worker(
            settings,
            correlation_id=correlation_id,
            out_of_time=lambda: remaining_ms(context) < safety_ms,
        )
        outcome = worker.handle(record.body)
        logger.info("catalog message handled", extra={"outcome": outcome})
        return outcome

    # FIFO: after a failure the rest of the batch is returned untouched, keeping order.
    return dict(
        process_partial_response(
            event=event,
            record_handler=record_handler,
            processor=fifo_processor(),
            context=context,
        )
    )
