"""In-memory fakes of the provision DAL protocols (for logic tests), thread-safe."""

from __future__ import annotations

import threading

from atende_shared.dal.tenants import StaleTenant
from atende_shared.errors import Conflict, NotFound
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from functions.provision.models.api import PhoneStatus
from functions.provision.models.errors import NumberOwnedElsewhere
from functions.provision.models.phone import PhoneRecord


class MemoryTenants:
    def __init__(self, *tenants: Tenant) -> None:
        self.tenants = {t.tenant_id: t for t in tenants}
        self.agents: dict[str, AgentConfig] = {}
        self.menus: dict[str, Menu] = {}

    def create_tenant(self, tenant: Tenant) -> None:
        if tenant.tenant_id in self.tenants:
            raise Conflict("exists")
        self.tenants[tenant.tenant_id] = tenant

    def put_tenant(self, tenant: Tenant) -> None:
        self.tenants[tenant.tenant_id] = tenant

    def replace_tenant(self, tenant: Tenant, *, expected_version: int) -> None:
        stored = self.get_tenant(tenant.tenant_id)
        if stored.version != expected_version:
            raise StaleTenant(tenant.tenant_id)
        self.tenants[tenant.tenant_id] = tenant

    def get_tenant(self, tenant_id: str) -> Tenant:
        try:
            return self.tenants[tenant_id]
        except KeyError:
            raise NotFound(f"tenant {tenant_id!r} not found") from None

    def list_tenants(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[Tenant], str | None]:
        ordered = sorted(self.tenants)
        start = ordered.index(cursor) + 1 if cursor else 0
        page = ordered[start : start + limit]
        more = start + limit < len(ordered)
        return [self.tenants[t] for t in page], (page[-1] if more and page else None)

    def put_agent_config(self, config: AgentConfig) -> None:
        self.agents[config.tenant_id] = config

    def get_agent_config(self, tenant_id: str) -> AgentConfig:
        return self.agents.get(tenant_id, AgentConfig(tenant_id=tenant_id))

    def put_menu(self, tenant_id: str, menu: Menu) -> None:
        self.menus[tenant_id] = menu

    def get_menu(self, tenant_id: str) -> Menu:
        return self.menus.get(tenant_id, Menu())


class MemoryPhones:
    def __init__(self) -> None:
        self.records: dict[tuple[str, str], PhoneRecord] = {}
        self.claims: dict[str, str] = {}
        self._lock = threading.Lock()

    def claim(self, record: PhoneRecord) -> PhoneRecord:
        with self._lock:
            key = (record.tenant_id, record.number)
            if key in self.records:
                return self.records[key]
            if self.claims.get(record.number, record.tenant_id) != record.tenant_id:
                raise NumberOwnedElsewhere(f"{record.number} is assigned to another tenant")
            self.claims[record.number] = record.tenant_id
            self.records[key] = record
            return record

    def get(self, tenant_id: str, number: str) -> PhoneRecord | None:
        with self._lock:
            return self.records.get((tenant_id, number))

    def list_for_tenant(self, tenant_id: str) -> list[PhoneRecord]:
        with self._lock:
            return [r for (t, _), r in self.records.items() if t == tenant_id]

    def save(self, record: PhoneRecord, *, unless_releasing: bool = False) -> bool:
        with self._lock:
            key = (record.tenant_id, record.number)
            current = self.records.get(key)
            if unless_releasing and (current is None or current.status == PhoneStatus.RELEASING):
                return False
            self.records[key] = record
            return True

    def delete(self, tenant_id: str, number: str) -> None:
        with self._lock:
            self.records.pop((tenant_id, number), None)
            if self.claims.get(number) == tenant_id:
                del self.claims[number]

    def owner(self, number: str) -> str | None:
        with self._lock:
            return self.claims.get(number)


class MemoryLeases:
    def __init__(self) -> None:
        self.leases: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        self.acquired = 0

    def try_acquire(self, name: str, holder: str, *, now: float, ttl_seconds: int) -> bool:
        with self._lock:
            current = self.leases.get(name)
            if current is not None and current[1] >= now and current[0] != holder:
                return False
            self.leases[name] = (holder, now + ttl_seconds)
            self.acquired += 1
            return True

    def release(self, name: str, holder: str) -> None:
        with self._lock:
            if self.leases.get(name, ("", 0.0))[0] == holder:
                del self.leases[name]
