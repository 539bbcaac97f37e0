"""The dedupe store on the idempotency table (key ``id``, TTL attribute ``expiration``).

One item per dedupe key: ``status`` is ``in_progress`` (with ``lease_until`` and the
claimant's ``token``) while a delivery enqueues, ``done`` once it has. DynamoDB's TTL
deletes lazily (up to days late), so an item past ``expiration`` counts as absent.
Uses the low-level client: it is thread-safe and cheaper to build than a resource.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from atende_shared.aws import client
from atende_shared.dal.dynamo import ConditionFailed, storage_call
from atende_shared.dal.keys import IDEMPOTENCY_KEY, IDEMPOTENCY_TTL_ATTRIBUTE
from functions.webhooks.logic.ports import ClaimOutcome

IN_PROGRESS = "in_progress"
DONE = "done"

_NAMES = {
    "#id": IDEMPOTENCY_KEY,
    "#exp": IDEMPOTENCY_TTL_ATTRIBUTE,
    "#st": "status",
    "#lease": "lease_until",
}


class DynamoDedupeStore:
    """:class:`DedupeStore` on DynamoDB conditional writes."""

    def __init__(self, table_name: str) -> None:
        self._table = table_name

    def claim(
        self, key: str, *, token: str, now: int, lease_until: int, expires_at: int
    ) -> ClaimOutcome:
        try:
            with storage_call("dedupe claim", conditional=True):
                client("dynamodb").put_item(
                    TableName=self._table,
                    Item={
                        IDEMPOTENCY_KEY: {"S": key},
                        "status": {"S": IN_PROGRESS},
                        "token": {"S": token},
                        "lease_until": {"N": str(lease_until)},
                        IDEMPOTENCY_TTL_ATTRIBUTE: {"N": str(expires_at)},
                    },
                    # Free, expired (TTL not yet applied), or a lease abandoned by a crash.
                    ConditionExpression=(
                        "attribute_not_exists(#id) OR #exp < :now"
                        " OR (#st = :in_progress AND #lease < :now)"
                    ),
                    ExpressionAttributeNames=_NAMES,
                    ExpressionAttributeValues={
                        ":now": {"N": str(now)},
                        ":in_progress": {"S": IN_PROGRESS},
                    },
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
        except ConditionFailed as lost:
            old: dict[str, Any] | None = lost.response.get("Item")
            if old is None:
                old = self._read(key)
            status = (old or {}).get("status", {}).get("S")
            return ClaimOutcome.DONE if status == DONE else ClaimOutcome.IN_PROGRESS
        return ClaimOutcome.CLAIMED

    def _read(self, key: str) -> dict[str, Any] | None:
        with storage_call("dedupe read"):
            answer = client("dynamodb").get_item(
                TableName=self._table, Key={IDEMPOTENCY_KEY: {"S": key}}, ConsistentRead=True
            )
        item: dict[str, Any] | None = answer.get("Item")
        return item

    def complete(self, key: str, *, token: str) -> None:
        try:
            with storage_call("dedupe complete", conditional=True):
                client("dynamodb").update_item(
                    TableName=self._table,
                    Key={IDEMPOTENCY_KEY: {"S": key}},
                    UpdateExpression="SET #st = :done REMOVE #lease",
                    ConditionExpression="#tok = :token",
                    ExpressionAttributeNames={
                        "#st": "status",
                        "#lease": "lease_until",
                        "#tok": "token",
                    },
                    ExpressionAttributeValues={":done": {"S": DONE}, ":token": {"S": token}},
                )
        except ConditionFailed:
            return  # our lease expired and another delivery took over

    def release(self, key: str, *, token: str) -> None:
        try:
            with storage_call("dedupe release", conditional=True):
                client("dynamodb").delete_item(
                    TableName=self._table,
                    Key={IDEMPOTENCY_KEY: {"S": key}},
                    ConditionExpression="#tok = :token",
                    ExpressionAttributeNames={"#tok": "token"},
                    ExpressionAttributeValues={":token": {"S": token}},
                )
        except ConditionFailed:
            return  # no longer ours: leave the newer claim alone


@cache
def dedupe_store(table_name: str) -> DynamoDedupeStore:
    """The process-wide store for ``table_name``."""
    return DynamoDedupeStore(table_name)
