"""Misses are remembered briefly, hits are never cached here (Powertools does that)."""

from __future__ import annotations

from atende_shared.tenant_secrets import Integration, IntegrationSecret
from functions.webhooks.logic.secrets_cache import MissCache, MissCachingReader


class CountingReader:
    def __init__(self) -> None:
        self.calls = 0
        self.values: dict[tuple[str, str], IntegrationSecret] = {}

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        self.calls += 1
        return self.values.get((tenant_id, integration))


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_miss_is_answered_from_memory_until_its_ttl() -> None:
    inner, clock = CountingReader(), Clock()
    reader = MissCachingReader(inner, MissCache(ttl=60, clock=clock))

    assert reader.get("ghost", "bling") is None
    assert reader.get("ghost", "bling") is None
    assert inner.calls == 1  # the second miss cost nothing

    # Given the secret is created meanwhile, then it is seen once the miss has expired
    inner.values[("ghost", "bling")] = IntegrationSecret(current={"client_secret": "s"})
    clock.now += 61
    assert reader.get("ghost", "bling") is not None
    assert inner.calls == 2


def test_hits_are_always_asked_and_misses_are_per_integration() -> None:
    inner = CountingReader()
    inner.values[("acme", "asaas")] = IntegrationSecret(current={"webhook_token": "t"})
    reader = MissCachingReader(inner, MissCache(ttl=60, clock=Clock()))
    assert reader.get("acme", "asaas") is not None
    assert reader.get("acme", "asaas") is not None
    assert reader.get("acme", "bling") is None
    assert inner.calls == 3


def test_the_cache_is_bounded() -> None:
    cache = MissCache(ttl=60, max_entries=3, clock=Clock())
    for n in range(5):
        cache.remember((f"t{n}", "bling"))
    assert not cache.missing(("t0", "bling"))
    assert not cache.missing(("t1", "bling"))
    assert cache.missing(("t4", "bling"))
