"""Statements in the artifacts bucket: ``statements/<tenant>/<YYYY-MM>.{csv,json}``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from botocore.exceptions import ClientError

from atende_shared.aws import client
from atende_shared.dal.dynamo import storage_call, storage_error
from atende_shared.dal.keys import tenant_pk
from functions.billing.dal.protocol import StatementStore

__all__ = ["S3StatementStore", "StatementStore", "statement_key", "statement_store"]

STATEMENTS_PREFIX = "statements/"


def statement_key(tenant_id: str, period: str, extension: str) -> str:
    tenant_pk(tenant_id)  # a validated slug is the only way into a tenant's prefix
    return f"{STATEMENTS_PREFIX}{tenant_id}/{period}.{extension}"


class S3StatementStore:
    """:class:`StatementStore` on S3."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_statement(
        self, tenant_id: str, period: str, csv_text: str, summary: dict[str, Any]
    ) -> list[str]:
        written = []
        bodies = (
            ("csv", csv_text.encode(), "text/csv; charset=utf-8"),
            ("json", json.dumps(summary, sort_keys=True).encode(), "application/json"),
        )
        for extension, body, content_type in bodies:
            key = statement_key(tenant_id, period, extension)
            with storage_call(f"write {key}"):
                client("s3").put_object(
                    Bucket=self._bucket, Key=key, Body=body, ContentType=content_type
                )
            written.append(key)
        return written

    def list_statements(self, tenant_id: str) -> list[dict[str, Any]]:
        prefix = f"{STATEMENTS_PREFIX}{tenant_id}/"
        tenant_pk(tenant_id)
        with storage_call("list statements"):
            pages = (
                client("s3")
                .get_paginator("list_objects_v2")
                .paginate(Bucket=self._bucket, Prefix=prefix)
            )
            summaries = []
            for page in pages:
                for obj in page.get("Contents", []):
                    if not obj["Key"].endswith(".json"):
                        continue
                    body = client("s3").get_object(Bucket=self._bucket, Key=obj["Key"])["Body"]
                    summary = json.loads(body.read())
                    summary["csv_key"] = obj["Key"][: -len("json")] + "csv"
                    summary["json_key"] = obj["Key"]
                    summaries.append(summary)
        return sorted(summaries, key=lambda s: str(s.get("period", "")), reverse=True)

    def download_links(self, tenant_id: str, period: str, *, seconds: int) -> dict[str, str] | None:
        """Presigned GET URLs of the period's CSV and JSON (None when not written)."""
        links = {}
        for extension in ("csv", "json"):
            key = statement_key(tenant_id, period, extension)
            try:
                client("s3").head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                    return None
                raise storage_error(f"find {key}", exc) from exc
            with storage_call(f"presign {key}"):
                links[extension] = str(
                    client("s3").generate_presigned_url(
                        "get_object",
                        Params={"Bucket": self._bucket, "Key": key},
                        ExpiresIn=seconds,
                    )
                )
        return links


@cache
def statement_store(bucket: str) -> S3StatementStore:
    return S3StatementStore(bucket)
