"""A small test world: in-memory DAL fakes + the fake LiveKit + the real provisioner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from atende_local.fake_livekit import FakeLiveKit
from atende_shared.models.tenant import Tenant, TenantStatus
from functions.provision.dal.livekit_sip import LiveKitSip
from functions.provision.logic import provisioner
from functions.provision.logic.provisioner import SipDeps
from functions.provision.logic.resilience import CircuitBreaker, SipRetry
from functions.provision.models.phone import PhoneRecord
from tests.provision.conftest import API_KEY, API_SECRET
from tests.provision.fakes import MemoryLeases, MemoryPhones, MemoryTenants

T = TypeVar("T")
AGENT = "atende-voice-agent"


@dataclass
class World:
    #: The SIP API: a FakeLiveKit, or tests.provision.servers.RealSipServer (same read-backs).
    fake: FakeLiveKit | Any
    tenants: MemoryTenants = field(default_factory=MemoryTenants)
    phones: MemoryPhones = field(default_factory=MemoryPhones)
    leases: MemoryLeases = field(default_factory=MemoryLeases)
    attempts: int = 3
    breaker: CircuitBreaker = field(
        default_factory=lambda: CircuitBreaker(threshold=50, reset_seconds=30)
    )
    timeout_seconds: float = 2.0

    def add_tenant(self, tenant_id: str, status: TenantStatus = TenantStatus.ACTIVE) -> None:
        self.tenants.put_tenant(Tenant(tenant_id=tenant_id, name=tenant_id, status=status))

    def assign(self, tenant_id: str, number: str) -> PhoneRecord:
        return self.phones.claim(PhoneRecord(tenant_id=tenant_id, number=number))

    def run(self, work: Callable[[SipDeps], Awaitable[T]], **overrides: Any) -> T:
        async def go() -> T:
            client = LiveKitSip(
                self.fake.url, API_KEY, API_SECRET, timeout_seconds=self.timeout_seconds
            )
            try:
                deps = SipDeps(
                    sip=client,
                    retry=SipRetry(breaker=self.breaker, attempts=self.attempts, base_seconds=0.01),
                    phones=self.phones,
                    tenants=self.tenants,
                    leases=self.leases,
                    agent_name=AGENT,
                    lease_seconds=60,
                    lease_wait_seconds=20,
                    **overrides,
                )
                return await work(deps)
            finally:
                await client.close()

        return asyncio.run(go())

    def ensure(self, tenant_id: str, number: str, **overrides: Any) -> PhoneRecord | None:
        return self.run(lambda d: provisioner.ensure(d, tenant_id, number), **overrides)

    def release(self, tenant_id: str, number: str) -> bool:
        return self.run(lambda d: provisioner.release(d, tenant_id, number))

    def record(self, tenant_id: str, number: str) -> PhoneRecord:
        record = self.phones.get(tenant_id, number)
        assert record is not None
        return record
