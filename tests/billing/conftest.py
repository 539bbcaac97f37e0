"""Fixtures for billing tests: tenants, fake dependencies, message builders."""

from __future__ import annotations

import pytest

from atende_shared.models.tenant import BillingPlan, Tenant
from functions.billing.logic.credits import credit
from functions.billing.logic.engine import BillingDeps
from tests.billing.fakes import Clock, make_deps
from tests.billing.moto_helpers import bus_deps, moto_deps  # noqa: F401 - fixtures

TENANT = "pizzaria-teste"


def tenant(tenant_id: str = TENANT, **plan: object) -> Tenant:
    return Tenant(
        tenant_id=tenant_id,
        name=f"Tenant {tenant_id}",
        plan=BillingPlan(**{"price_per_minute_cents": 90, **plan}),
    )


def fund(deps: BillingDeps, amount: int, tenant_id: str = TENANT, key: str = "opening") -> None:
    credit(tenant_id, amount, "opening balance", "test-admin", key, deps=deps)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deps(clock: Clock) -> BillingDeps:
    return make_deps([tenant()], clock=clock)
