"""Push-ingestion API: batches from on-premises extractors, then ``complete``."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from atende_shared.http import (
    TenantPath,
    build_resolver,
    documented_responses,
    path_parameter,
    request_correlation_id,
)
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


def _authenticate(resolver: APIGatewayRestResolver) -> None:
    """The tenant's ingest token, checked before anything in the body is read: a caller
    without it learns nothing about the body's shape (401 only)."""
    settings = load_settings(IngestSettings)
    tenant_id = path_parameter(resolver, "tenant_id") or ""
    authenticate(
        SecretsManagerReader(settings.stage),
        tenant_id,
        resolver.current_event.headers.get("Authorization"),  # Powertools: case-insensitive
    )


def _max_body_bytes() -> int:
    return load_settings(IngestSettings).ingest_max_body_bytes


# Order per request: authenticate → cap the size (413) → content type → bounded JSON.
app = build_resolver(
    title="Atende ingest API", max_body_bytes=_max_body_bytes, authenticate=_authenticate
)


def _jobs(settings: IngestSettings) -> SqsJobQueue:
    return SqsJobQueue(
        settings.catalog_queue_url, correlation_id=request_correlation_id(app) or "ingest"
    )


@app.post(
    "/v1/ingest/<tenant_id>/<stream>",
    summary="Push one batch of a snapshot",
    tags=["ingest"],
    responses=documented_responses(
        202, "Accepted (200: the same batch was already accepted)", 401, 413, 415
    ),
)
def post_batch(
    tenant_id: TenantPath,
    stream: Annotated[Stream, Path()],
    batch: Annotated[IngestBatch, Body()],
) -> tuple[dict[str, Any], int]:
    settings = load_settings(IngestSettings)
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


@app.post(
    "/v1/ingest/<tenant_id>/<stream>/complete",
    summary="Close a snapshot: every batch was sent",
    tags=["ingest"],
    responses=documented_responses(202, "Accepted", 401, 413, 415),
)
def post_complete(
    tenant_id: TenantPath,
    stream: Annotated[Stream, Path()],
    complete: Annotated[IngestComplete, Body()],
) -> tuple[dict[str, Any], int]:
    settings = load_settings(IngestSettings)
    answer = accept_complete(tenant_id, stream, complete, jobs=_jobs(settings))
    return answer.model_dump(mode="json", exclude_none=True), 202


@instrumented(IngestSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
