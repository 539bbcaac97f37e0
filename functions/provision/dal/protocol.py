"""The provisioning stores as logic sees them (no boto3 here: the DynamoDB
implementations are ``phones.py`` and ``leases.py``)."""

from __future__ import annotations

from typing import Protocol

from atende_shared.errors import NotFound
from functions.provision.models.phone import PhoneRecord


class PhoneStore(Protocol):
    def claim(self, record: PhoneRecord) -> PhoneRecord:
        """Store a new assignment, or return the tenant's existing one for that number.
        Raises ``NumberOwnedElsewhere`` when another tenant holds the number."""
        ...

    def get(self, tenant_id: str, number: str) -> PhoneRecord | None: ...
    def list_for_tenant(self, tenant_id: str) -> list[PhoneRecord]: ...
    def save(self, record: PhoneRecord, *, unless_releasing: bool = False) -> bool:
        """Overwrite the item. With ``unless_releasing``, refuse (return False) when the
        stored item is gone or being released: release always wins over ensure."""
        ...

    def delete(self, tenant_id: str, number: str) -> None:
        """Remove the item and the claim (only if the claim is this tenant's)."""
        ...

    def owner(self, number: str) -> str | None: ...


class LeaseStore(Protocol):
    def try_acquire(self, name: str, holder: str, *, now: float, ttl_seconds: int) -> bool: ...
    def release(self, name: str, holder: str) -> None: ...


def require(store: PhoneStore, tenant_id: str, number: str) -> PhoneRecord:
    """The tenant's record for ``number`` or 404 (also when another tenant owns it)."""
    record = store.get(tenant_id, number)
    if record is None:
        raise NotFound(f"{number} is not assigned to tenant {tenant_id!r}")
    return record
