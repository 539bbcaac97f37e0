"""Call records: billing's call sessions (read only) and the agent's transcripts in S3.

Billing owns the call-session items (``CALL#<room>``, and ``CALLID#<sip call id>`` -> room,
see functions/billing/dal/dynamo.py); this reader maps them to what the call-record API
shows without importing billing (each domain ships as its own Lambda bundle). The
transcript layout is the voice agent's: ``transcripts/<tenant>/<yyyy>/<mm>/<call_id>.json``.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from atende_shared.aws import client
from atende_shared.dal import keys
from atende_shared.dal.dynamo import TableStore, from_item, storage_call
from functions.orders.dal.protocol import CallSessions, Page, Transcripts

__all__ = [
    "CallSessions",
    "DynamoCallSessions",
    "S3Transcripts",
    "Transcripts",
    "call_sessions",
    "transcripts",
]
from functions.orders.models.calls import CallSessionView

#: Billing's alias item from a SIP call id to its room (functions/billing/dal/dynamo.py).
BILLING_CALL_ID_PREFIX = "CALLID#"
TRANSCRIPTS_PREFIX = "transcripts/"


class DynamoCallSessions(TableStore):
    def _get(self, tenant_id: str, sk: str) -> dict[str, Any] | None:
        with storage_call("read call session"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: sk}, ConsistentRead=True
            )
        item = answer.get("Item")
        return from_item(item) if item else None

    def list_sessions(
        self, tenant_id: str, *, limit: int, after: dict[str, Any] | None
    ) -> Page[CallSessionView]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(keys.PK).eq(keys.tenant_pk(tenant_id))
            & Key(keys.SK).begins_with(keys.CALL_PREFIX),
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        with storage_call("list call sessions"):
            answer = self._table.query(**query)
        items = [CallSessionView.model_validate(from_item(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return Page(items=items, position=from_item(last) if last else None)

    def find_session(self, tenant_id: str, call_id: str) -> CallSessionView | None:
        alias = self._get(tenant_id, f"{BILLING_CALL_ID_PREFIX}{call_id}")
        room = str(alias["room_name"]) if alias else call_id
        item = self._get(tenant_id, f"{keys.CALL_PREFIX}{room}")
        return CallSessionView.model_validate(item) if item else None


def _months_around(when: datetime) -> list[tuple[int, int]]:
    year, month = when.year, when.month
    before = (year - 1, 12) if month == 1 else (year, month - 1)
    after = (year + 1, 1) if month == 12 else (year, month + 1)
    return [(year, month), before, after]


class S3Transcripts:
    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def find(self, tenant_id: str, call_id: str, around: datetime | None) -> str | None:
        keys.tenant_pk(tenant_id)  # a validated slug is the only way into a tenant's prefix
        if around is None or "/" in call_id:
            return None
        for year, month in _months_around(around):
            key = f"{TRANSCRIPTS_PREFIX}{tenant_id}/{year:04d}/{month:02d}/{call_id}.json"
            try:
                client("s3").head_object(Bucket=self._bucket, Key=key)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                    continue
                with storage_call("find transcript"):
                    raise
            return key
        return None

    def read(self, key: str) -> dict[str, Any]:
        with storage_call("read transcript"):
            body = client("s3").get_object(Bucket=self._bucket, Key=key)["Body"].read()
        data = json.loads(body)
        return data if isinstance(data, dict) else {"transcript": data}

    def presign(self, key: str, *, seconds: int) -> str:
        with storage_call("presign"):
            return str(
                client("s3").generate_presigned_url(
                    "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=seconds
                )
            )


@cache
def call_sessions(table_name: str) -> DynamoCallSessions:
    return DynamoCallSessions(table_name)


@cache
def transcripts(bucket: str) -> S3Transcripts:
    return S3Transcripts(bucket)
