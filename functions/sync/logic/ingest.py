"""Push ingestion: authenticate the extractor, park the batch in S3, queue it, answer.

The endpoint never applies records itself: it stores the batch, enqueues a job on the
catalog FIFO queue (grouped per tenant, so batches and the final ``complete`` are applied
in order) and answers 202. Nothing is lost while the workers are down: the jobs wait in
SQS. A batch id already accepted answers 200 ``duplicate`` and is not queued again.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.errors import PayloadTooLarge, Unauthorized, ValidationFailed
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.ports.secrets import SecretReader, matches_any
from functions.sync.logic.ports import BlobStore, IngestLedger, JobQueue
from functions.sync.models.runs import (
    SNAPSHOT_ID_PATTERN,
    IngestBatchJob,
    IngestCompleteJob,
)

Stream = Literal["catalog", "stock"]


class IngestBatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(pattern=SNAPSHOT_ID_PATTERN)
    batch_id: str = Field(pattern=SNAPSHOT_ID_PATTERN)
    records: list[dict[str, Any]] = Field(min_length=0)


class IngestComplete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshot_id: str = Field(pattern=SNAPSHOT_ID_PATTERN)
    batch_count: int = Field(ge=0, le=1_000_000)


class IngestAnswer(BaseModel):
    status: Literal["accepted", "duplicate"]
    snapshot_id: str
    batch_id: str | None = None
    run_id: str


def authenticate(secrets: SecretReader, tenant_id: str, authorization: str | None) -> None:
    """The tenant's ingest ``token`` (or its predecessor during a rotation) as a Bearer."""
    import re

    if not re.fullmatch(TENANT_ID_PATTERN, tenant_id):
        raise Unauthorized(f"invalid tenant id {tenant_id!r}")
    presented = (authorization or "").removeprefix("Bearer ").strip()
    if not presented:
        raise Unauthorized("missing ingest token")
    secret = secrets.get(tenant_id, "ingest")
    if secret is None:
        raise Unauthorized(f"tenant {tenant_id} has no ingest secret")
    if not matches_any(presented, secret.candidates("token")):
        raise Unauthorized("wrong ingest token")


def object_key(tenant_id: str, stream: str, snapshot_id: str, batch_id: str) -> str:
    return f"ingest/{tenant_id}/{stream}/{snapshot_id}/{batch_id}.json"


def accept_batch(
    tenant_id: str,
    stream: Stream,
    batch: IngestBatch,
    *,
    max_records: int,
    ledger: IngestLedger,
    blobs: BlobStore,
    jobs: JobQueue,
) -> IngestAnswer:
    from functions.sync.models.runs import push_run_id

    run_id = push_run_id(stream, batch.snapshot_id)
    if len(batch.records) > max_records:
        raise PayloadTooLarge(f"a batch holds at most {max_records} records")
    for index, record in enumerate(batch.records):
        if not record.get("source_id"):
            raise ValidationFailed(f"record {index} has no source_id")
    if ledger.accepted(tenant_id, stream, batch.snapshot_id, batch.batch_id):
        return IngestAnswer(
            status="duplicate",
            snapshot_id=batch.snapshot_id,
            batch_id=batch.batch_id,
            run_id=run_id,
        )
    key = object_key(tenant_id, stream, batch.snapshot_id, batch.batch_id)
    blobs.put_json(key, {"records": batch.records})
    job = IngestBatchJob(
        tenant_id=tenant_id,
        stream=stream,
        snapshot_id=batch.snapshot_id,
        batch_id=batch.batch_id,
        object_key=key,
    )
    jobs.send_job(
        tenant_id, job.model_dump_json(), dedupe_id=f"{batch.snapshot_id}-{batch.batch_id}"
    )
    # Marked last: if anything above failed, the extractor's retry goes through again (the
    # queue's dedupe id and the workers' content hash make a double enqueue harmless).
    ledger.mark_accepted(tenant_id, stream, batch.snapshot_id, batch.batch_id)
    return IngestAnswer(
        status="accepted", snapshot_id=batch.snapshot_id, batch_id=batch.batch_id, run_id=run_id
    )


def accept_complete(
    tenant_id: str, stream: Stream, complete: IngestComplete, *, jobs: JobQueue
) -> IngestAnswer:
    from functions.sync.models.runs import push_run_id

    job = IngestCompleteJob(
        tenant_id=tenant_id,
        stream=stream,
        snapshot_id=complete.snapshot_id,
        batch_count=complete.batch_count,
    )
    jobs.send_job(tenant_id, job.model_dump_json(), dedupe_id=f"{complete.snapshot_id}-complete")
    return IngestAnswer(
        status="accepted",
        snapshot_id=complete.snapshot_id,
        run_id=push_run_id(stream, complete.snapshot_id),
    )
