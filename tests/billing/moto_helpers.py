"""Fixtures on moto: the real DynamoDB store, tenant store and EventBridge publisher."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import EventBridgePublisher
from functions.billing.dal.dynamo import DynamoBillingStore
from functions.billing.handlers.deps import reset_default_deps
from functions.billing.logic.engine import BillingDeps
from tests.billing.fakes import FakePublisher


@pytest.fixture
def moto_deps(aws: Any) -> Iterator[BillingDeps]:
    """Given moto with every resource, a tenant, and billing deps on the real DAL."""
    from tests.billing.conftest import tenant  # local: conftest imports this module

    reset_default_deps()
    table = aws.tables["main"]
    tenants = tenant_store(table)
    tenants.put_tenant(tenant())
    yield BillingDeps(
        store=DynamoBillingStore(table),
        tenants=tenants,
        publisher=FakePublisher(),
        end_grace_seconds=120,
    )
    reset_default_deps()
    tenant_store.cache_clear()


@pytest.fixture
def bus_deps(moto_deps: BillingDeps, aws: Any) -> BillingDeps:
    """The same, publishing to the moto event bus."""
    moto_deps.publisher = EventBridgePublisher(aws.bus_name)
    return moto_deps
