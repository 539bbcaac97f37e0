"""Push-ingestion API: batches from on-premises extractors, then ``complete``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from atende_shared.errors import PayloadTooLarge
from atende_shared.http import build_resolver
from atende_shared.observability import instrumented
from atende_shared.settings import load_settings
from atende_shared.tenant_secrets import SecretsManagerReader
from functions.sync.dal.aws_io import S3BlobStore, SqsJobQueue
from functions.sync.dal.dynamo import ingest_ledger
from functions.sync.logic.ingest import (
    IngestBatch,
    IngestComplete,
    Stream,
    accept_batch,
    accept_complete,
    authenticate,
)
from functions.sync.settings import IngestSettings

app = build_resolver(title="Atende ingest API")


def _guard(tenant_id: str, settings: IngestSettings) -> None:
    body = app.current_event.body or ""
    if len(body.encode()) > settings.ingest_max_body_bytes:
        raise PayloadTooLarge(f"body exceeds {settings.ingest_max_body_bytes} bytes")
    authenticate(
        SecretsManagerReader(settings.stage),
        tenant_id,
        app.current_event.headers.get("Authorization")
        or app.current_event.headers.get("authorization"),
    )


def _jobs(settings: IngestSettings) -> SqsJobQueue:
    return SqsJobQueue(settings.catalog_queue_url, correlation_id=_correlation_id())


def _correlation_id() -> str:
    try:
        return str(app.current_event.request_context.request_id or "ingest")
    except (AttributeError, KeyError):
        return "ingest"


@app.post("/v1/ingest/<tenant_id>/<stream>")
def post_batch(
    tenant_id: Annotated[str, Path()],
    stream: Annotated[Stream, Path()],
    batch: Annotated[IngestBatch, Body()],
) -> tuple[dict[str, Any], int]:
    settings = load_settings(IngestSettings)
    _guard(tenant_id, settings)
    answer = accept_batch(
        tenant_id,
        stream,
        batch,
        max_records=settings.ingest_max_records,
        ledger=ingest_ledger(settings.main_table),
        blobs=S3BlobStore(settings.artifacts_bucket),
        jobs=_jobs(settings),
    )
    return answer.model_dump(
        mode="json", exclude_none=True
    ), 202 if answer.status == "accepted" else 200


@app.post("/v1/ingest/<tenant_id>/<stream>/complete")
def post_complete(
    tenant_id: Annotated[str, Path()],
    stream: Annotated[Stream, Path()],
    complete: Annotated[IngestComplete, Body()],
) -> tuple[dict[str, Any], int]:
    settings = load_settings(IngestSettings)
    _guard(tenant_id, settings)
    answer = accept_complete(tenant_id, stream, complete, jobs=_jobs(settings))
    return answer.model_dump(mode="json", exclude_none=True), 202


@instrumented(IngestSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
