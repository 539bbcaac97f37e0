"""S3 batch storage and the catalog job queue."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from atende_shared.aws import client
from atende_shared.dal.dynamo import storage_call
from atende_shared.messaging import SqsQueueSender


class S3BlobStore:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_json(self, key: str, data: Any) -> None:
        with storage_call(f"put s3://{self._bucket}/{key}"):
            client("s3").put_object(
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(data, separators=(",", ":")).encode(),
                ContentType="application/json",
            )

    def get_json(self, key: str) -> Any:
        with storage_call(f"get s3://{self._bucket}/{key}"):
            answer = client("s3").get_object(Bucket=self._bucket, Key=key)
            return json.loads(answer["Body"].read())


class SqsJobQueue:
    """Jobs on the catalog FIFO queue: grouped per tenant so one tenant's work is ordered."""

    def __init__(self, queue_url: str, correlation_id: str = "sync") -> None:
        self._url = queue_url
        self._sender = SqsQueueSender()
        self.correlation_id = correlation_id

    def send_job(self, tenant_id: str, body: str, *, dedupe_id: str) -> None:
        self._sender.send(
            self._url,
            body,
            correlation_id=self.correlation_id,
            group_id=tenant_id,
            deduplication_id=dedupe_key(tenant_id, dedupe_id),
        )


def dedupe_key(tenant_id: str, job_key: str) -> str:
    """FIFO deduplication ids are per queue, not per group: scope them to the tenant."""
    key = f"{tenant_id}:{job_key}".replace("#", "-")
    return key if len(key) <= 128 else hashlib.sha256(key.encode()).hexdigest()
