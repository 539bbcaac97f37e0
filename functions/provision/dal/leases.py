"""Short leases in DynamoDB that serialise SIP work per phone number.

``PK=LEASE#PHONE#<e164> SK=LEASE``: the shared layer's leases (``atende_shared.dal.leases``)
at a global key, since a number has one owner across tenants.
"""

from __future__ import annotations

from functools import cache

from atende_shared.dal import keys
from atende_shared.dal.leases import DynamoLeases
from functions.provision.dal.protocol import LeaseStore

__all__ = ["DynamoLeaseStore", "LeaseStore", "lease_key", "lease_store"]

LEASE_SK = "LEASE"


def lease_key(name: str) -> dict[str, str]:
    return {keys.PK: f"{keys.LEASE_PREFIX}{name}", keys.SK: LEASE_SK}


class DynamoLeaseStore:
    """:class:`LeaseStore` on the shared lease table (global keys: one number, one lease)."""

    def __init__(self, table_name: str) -> None:
        self._leases = DynamoLeases(table_name)

    def try_acquire(self, name: str, holder: str, *, now: float, ttl_seconds: int) -> bool:
        return self._leases.try_acquire(lease_key(name), holder, ttl_seconds=ttl_seconds, now=now)

    def release(self, name: str, holder: str) -> None:
        self._leases.release(lease_key(name), holder)


@cache
def lease_store(table_name: str) -> LeaseStore:
    return DynamoLeaseStore(table_name)
