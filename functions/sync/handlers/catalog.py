"""Catalog queue consumer: webhook fast path, scheduled/admin sync jobs, pushed batches."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from atende_shared.consumers import bind_record, consume
from atende_shared.observability import instrumented, logger
from atende_shared.settings import load_settings
from functions.sync.handlers._sqs import remaining_ms
from functions.sync.handlers.deps import build_worker
from functions.sync.settings import CatalogWorkerSettings


@instrumented(CatalogWorkerSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    settings = load_settings(CatalogWorkerSettings)
    safety_ms = settings.run_safety_seconds * 1000

    def record_handler(record: SQSRecord) -> str:
        worker = build_worker(
            settings,
            correlation_id=bind_record(record),
            out_of_time=lambda: remaining_ms(context) < safety_ms,
        )
        outcome = worker.handle(record.body)
        logger.info("catalog message handled", extra={"outcome": outcome})
        return outcome

    # FIFO, group = tenant: a transient failure holds only the rest of that tenant's group
    # (order kept); a message that can never apply goes to the DLQ at once, with its reason.
    return consume(event, context, consumer="sync-catalog", handle=record_handler, fifo=True)
