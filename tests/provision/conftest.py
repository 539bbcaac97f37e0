"""Fixtures of the provision tests: the admin API over moto, a fake LiveKit on loopback."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources
from atende_shared.dal.tenants import tenant_store
from tests.provision.apigw import Answer, call

API_KEY = "devkey"
API_SECRET = "devsecret-devsecret-devsecret-0123"


@pytest.fixture
def admin(aws: LocalResources) -> Iterator[Callable[..., Answer]]:
    """Given the admin API handler wired to a fresh moto account: call(method, path, ...)."""
    from functions.provision.handlers import admin_api

    tenant_store.cache_clear()

    def invoke(method: str, path: str, **kwargs: Any) -> Answer:
        return call(admin_api.handler, method, path, **kwargs)

    yield invoke
    tenant_store.cache_clear()


@pytest.fixture
def fake_lk() -> Iterator[Any]:
    """Given a fake LiveKit SIP API on loopback (fresh state, no faults)."""
    from atende_local import fake_livekit

    handle = fake_livekit.start(api_key=API_KEY, api_secret=API_SECRET, race_window_seconds=0.02)
    yield handle
    handle.stop()
