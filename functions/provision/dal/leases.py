"""Short leases in DynamoDB that serialise SIP work per phone number.

``PK=LEASE#PHONE#<e164> SK=LEASE`` holds ``holder`` and ``expires_at`` (epoch seconds,
also the table's TTL attribute so stale leases disappear). Acquire is a conditional put
that wins only if no live lease exists; a crashed holder's lease simply expires.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.dal import keys
from atende_shared.dal.dynamo import is_condition_failure, storage_error, table

LEASE_SK = "LEASE"


class LeaseStore(Protocol):
    def try_acquire(self, name: str, holder: str, *, now: float, ttl_seconds: int) -> bool: ...
    def release(self, name: str, holder: str) -> None: ...


def lease_key(name: str) -> dict[str, str]:
    return {keys.PK: f"{keys.LEASE_PREFIX}{name}", keys.SK: LEASE_SK}


class DynamoLeaseStore:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return table(self._table_name)

    def try_acquire(self, name: str, holder: str, *, now: float, ttl_seconds: int) -> bool:
        try:
            self._table.put_item(
                Item={
                    **lease_key(name),
                    "entity": "lease",
                    "holder": holder,
                    keys.TTL_ATTRIBUTE: int(now) + ttl_seconds,
                },
                # TTL deletion is lazy (hours), so expiry is checked here, not trusted to TTL.
                ConditionExpression="attribute_not_exists(PK) OR #exp < :now OR holder = :me",
                ExpressionAttributeNames={"#exp": keys.TTL_ATTRIBUTE},
                ExpressionAttributeValues={":now": int(now), ":me": holder},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise storage_error("acquire lease", exc) from exc
        except BotoCoreError as exc:
            raise storage_error("acquire lease", exc) from exc
        return True

    def release(self, name: str, holder: str) -> None:
        try:
            self._table.delete_item(
                Key=lease_key(name),
                ConditionExpression="holder = :me",
                ExpressionAttributeValues={":me": holder},
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return  # expired and taken by someone else: theirs now
            raise storage_error("release lease", exc) from exc
        except BotoCoreError as exc:
            raise storage_error("release lease", exc) from exc


@cache
def lease_store(table_name: str) -> LeaseStore:
    return DynamoLeaseStore(table_name)
