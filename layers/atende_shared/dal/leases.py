"""Leases in DynamoDB: one holder at a time for a named piece of work.

Acquiring is a conditional put that wins when no live lease exists, or when the caller
already holds it (renewal). Expiry is checked in the condition against ``lease_until``
because TTL deletion is lazy (hours); the TTL attribute only cleans up long-dead leases.
A crashed holder's lease simply expires. Used to serialise SIP provisioning per phone
number, Bling token refreshes and order write-backs.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from decimal import Decimal
from functools import cache

from atende_shared.dal import keys
from atende_shared.dal.dynamo import ConditionFailed, TableStore, storage_call

#: How long an expired lease lingers before TTL removes it (it is dead either way).
_CLEANUP_SECONDS = 3_600


class DynamoLeases(TableStore):
    """Leases stored at caller-chosen keys of one table."""

    def try_acquire(
        self,
        key: Mapping[str, str],
        holder: str,
        *,
        ttl_seconds: float,
        now: float | None = None,
    ) -> bool:
        """Take (or renew) the lease at ``key`` for ``holder``; False if someone else holds it."""
        moment = time.time() if now is None else now
        until = moment + ttl_seconds
        try:
            with storage_call("acquire lease", conditional=True):
                self._table.put_item(
                    Item={
                        **key,
                        "entity": "lease",
                        "holder": holder,
                        "lease_until": Decimal(str(round(until, 3))),
                        keys.TTL_ATTRIBUTE: int(until) + _CLEANUP_SECONDS,
                    },
                    ConditionExpression=(
                        "attribute_not_exists(PK) OR lease_until < :now OR holder = :me"
                    ),
                    ExpressionAttributeValues={
                        ":now": Decimal(str(round(moment, 3))),
                        ":me": holder,
                    },
                )
        except ConditionFailed:
            return False
        return True

    def release(self, key: Mapping[str, str], holder: str) -> None:
        """Give the lease back; a no-op if it expired and someone else took it."""
        try:
            with storage_call("release lease", conditional=True):
                self._table.delete_item(
                    Key=dict(key),
                    ConditionExpression="holder = :me",
                    ExpressionAttributeValues={":me": holder},
                )
        except ConditionFailed:
            return  # expired and taken by someone else: theirs now


@cache
def leases(table_name: str) -> DynamoLeases:
    """The process-wide lease table handle for ``table_name``."""
    return DynamoLeases(table_name)
