"""Remember, briefly, which tenant secrets do not exist.

Powertools Parameters caches the secrets it finds, not the ones it does not: without this,
every request to a made-up tenant id would cost a Secrets Manager call, and random tenant
ids evade the WAF's per-path rate limit. A miss is remembered for ``ttl`` seconds (a tenant
whose secret is created meanwhile is refused for at most that long; senders retry).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from atende_shared.ports.secrets import Integration, IntegrationSecret, SecretReader

MISS_TTL_SECONDS = 60.0
MAX_MISSES = 10_000


class MissCache:
    """Process-wide record of recent misses, bounded (oldest forgotten first)."""

    def __init__(
        self,
        *,
        ttl: float = MISS_TTL_SECONDS,
        max_entries: int = MAX_MISSES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._until: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._lock = threading.Lock()

    def missing(self, key: tuple[str, str]) -> bool:
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return False
            if until < self._clock():
                del self._until[key]
                return False
            return True

    def remember(self, key: tuple[str, str]) -> None:
        with self._lock:
            self._until[key] = self._clock() + self._ttl
            self._until.move_to_end(key)
            while len(self._until) > self._max:
                self._until.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._until.clear()


class MissCachingReader:
    """:class:`SecretReader` that answers a recent miss without asking ``inner``."""

    def __init__(self, inner: SecretReader, misses: MissCache) -> None:
        self._inner = inner
        self._misses = misses

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        key = (tenant_id, integration)
        if self._misses.missing(key):
            return None
        secret = self._inner.get(tenant_id, integration)
        if secret is None:
            self._misses.remember(key)
        return secret
