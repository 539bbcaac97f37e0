"""What the ingress logic needs from the outside world, as small protocols."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

from atende_shared.models.envelope import Provider


class ClaimOutcome(StrEnum):
    CLAIMED = "claimed"  # this delivery owns the key: enqueue, then complete or release
    DONE = "done"  # an earlier delivery was enqueued: a duplicate
    IN_PROGRESS = "in_progress"  # another delivery holds an unexpired lease on the key


class DedupeStore(Protocol):
    """A TTL'd record per dedupe key, claimed with a lease before enqueueing."""

    def claim(
        self, key: str, *, token: str, now: int, lease_until: int, expires_at: int
    ) -> ClaimOutcome: ...

    def complete(self, key: str, *, token: str) -> None: ...

    def release(self, key: str, *, token: str) -> None: ...


class MetricsSink(Protocol):
    """Counts per provider (and reason, for refusals)."""

    def count(self, name: str, provider: Provider, reason: str | None = None) -> None: ...
