"""The tenant store as logic sees it: the protocol and the helpers written against it
(no boto3 here: the DynamoDB implementation is ``atende_shared.dal.tenants``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from atende_shared.errors import DependencyUnavailable
from atende_shared.models.common import utc_now
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant


class StaleTenant(Exception):
    """The profile changed since it was read (its version moved). Re-read and retry."""


class TenantStore(Protocol):
    def create_tenant(self, tenant: Tenant) -> None: ...
    def put_tenant(self, tenant: Tenant) -> None: ...
    def replace_tenant(self, tenant: Tenant, *, expected_version: int) -> None:
        """Write ``tenant`` only if the stored version is ``expected_version``, else
        raise :class:`StaleTenant`."""
        ...

    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def list_tenants(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[Tenant], str | None]: ...
    def put_agent_config(self, config: AgentConfig) -> None: ...
    def get_agent_config(self, tenant_id: str) -> AgentConfig: ...
    def put_menu(self, tenant_id: str, menu: Menu) -> None: ...
    def get_menu(self, tenant_id: str) -> Menu: ...


def update_tenant(
    store: TenantStore,
    tenant_id: str,
    change: Callable[[Tenant], Tenant],
    *,
    attempts: int = 5,
) -> tuple[Tenant, bool]:
    """Read, ``change`` and write the profile under its version: concurrent writers (an
    admin's PATCH, billing's suspension) never overwrite each other. Returns the stored
    tenant and whether ``change`` changed anything (no write when it did not)."""
    for _ in range(attempts):
        current = store.get_tenant(tenant_id)
        wanted = change(current)
        if wanted == current:
            return current, False
        stored = wanted.model_copy(update={"version": current.version + 1, "updated_at": utc_now()})
        try:
            store.replace_tenant(stored, expected_version=current.version)
        except StaleTenant:
            continue
        return stored, True
    raise DependencyUnavailable(f"tenant {tenant_id!r} kept changing under {attempts} updates")


def iter_tenants(store: TenantStore, *, page_size: int = 100) -> Iterator[Tenant]:
    """Every tenant, reading ``list_tenants`` one page at a time."""
    cursor: str | None = None
    while True:
        tenants, cursor = store.list_tenants(limit=page_size, cursor=cursor)
        yield from tenants
        if not cursor:
            return
