"""Retries with exponential backoff and a circuit breaker around LiveKit calls.

Only :class:`SipUnavailable` is retried: a 4xx (:class:`SipRejected`) would fail the same
way again. After ``threshold`` consecutive failures the breaker opens and calls fail fast
for ``reset_seconds`` (the SQS message is retried later instead of hammering a LiveKit
that is down); then one trial call is let through (half-open).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from livekit.protocol.sip import SIPDispatchRuleInfo, SIPInboundTrunkInfo

from functions.provision.dal.livekit_sip import SipApi
from functions.provision.models.errors import SipUnavailable

T = TypeVar("T")


class CircuitBreaker:
    """Consecutive-failure breaker, shared by every call in the process (thread-safe)."""

    def __init__(
        self, *, threshold: int, reset_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.threshold = threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._lock = threading.Lock()

    @property
    def state(self) -> str:
        with self._lock:
            if self._opened_at is None:
                return "closed"
            if self._clock() - self._opened_at >= self.reset_seconds:
                return "half-open"
            return "open"

    def before_call(self) -> None:
        if self.state == "open":
            raise SipUnavailable("LiveKit circuit breaker is open; retry later")

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._failures >= self.threshold:
                self._opened_at = self._clock()


async def call_with_retries(
    operation: Callable[[], Awaitable[T]],
    *,
    breaker: CircuitBreaker,
    attempts: int,
    base_seconds: float,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``operation``; retry :class:`SipUnavailable` with jittered exponential backoff."""
    for attempt in range(1, attempts + 1):
        breaker.before_call()
        try:
            result = await operation()
        except SipUnavailable:
            breaker.record_failure()
            if attempt == attempts:
                raise
            # Full jitter: concurrent workers retrying together would stampede LiveKit.
            await sleep(random.uniform(0, base_seconds * 2 ** (attempt - 1)))  # noqa: S311
            continue
        breaker.record_success()
        return result
    raise AssertionError("unreachable")  # pragma: no cover


class ResilientSip:
    """A :class:`SipApi` that applies :func:`call_with_retries` to every call."""

    def __init__(
        self, inner: SipApi, *, breaker: CircuitBreaker, attempts: int, base_seconds: float
    ) -> None:
        self._inner = inner
        self._breaker = breaker
        self._attempts = attempts
        self._base = base_seconds

    async def _run(self, operation: Callable[[], Awaitable[T]]) -> T:
        return await call_with_retries(
            operation, breaker=self._breaker, attempts=self._attempts, base_seconds=self._base
        )

    async def list_trunks(
        self, *, numbers: list[str] | None = None, trunk_ids: list[str] | None = None
    ) -> list[SIPInboundTrunkInfo]:
        return await self._run(
            lambda: self._inner.list_trunks(numbers=numbers, trunk_ids=trunk_ids)
        )

    async def create_trunk(self, trunk: SIPInboundTrunkInfo) -> SIPInboundTrunkInfo:
        return await self._run(lambda: self._inner.create_trunk(trunk))

    async def set_trunk_numbers(self, trunk_id: str, numbers: list[str]) -> SIPInboundTrunkInfo:
        return await self._run(lambda: self._inner.set_trunk_numbers(trunk_id, numbers))

    async def delete_trunk(self, trunk_id: str) -> None:
        await self._run(lambda: self._inner.delete_trunk(trunk_id))

    async def list_rules(self, *, trunk_ids: list[str] | None = None) -> list[SIPDispatchRuleInfo]:
        return await self._run(lambda: self._inner.list_rules(trunk_ids=trunk_ids))

    async def create_rule(self, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        return await self._run(lambda: self._inner.create_rule(rule))

    async def replace_rule(self, rule_id: str, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        return await self._run(lambda: self._inner.replace_rule(rule_id, rule))

    async def delete_rule(self, rule_id: str) -> bool:
        return await self._run(lambda: self._inner.delete_rule(rule_id))
