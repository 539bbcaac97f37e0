"""Fixtures on moto: the real DynamoDB store, tenant store and EventBridge publisher."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import EventBridgePublisher
from functions.billing.dal.dynamo import DynamoBillingStore
from functions.billing.logic.engine import BillingDeps
from functions.billing.logic.factory import reset_default_deps
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


@contextmanager
def serialised_moto_requests() -> Iterator[None]:
    """Make each moto request atomic, as each DynamoDB request is in AWS.

    moto's in-process backend is not thread-safe (a query can iterate a dict another
    thread's put is growing). Real DynamoDB serialises nothing *between* requests, and
    neither does this: threads still interleave their reads and conditional commits, so a
    lost update would still show. It only stops the emulator corrupting itself."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
