"""Retries with exponential backoff and a circuit breaker around LiveKit calls.

Only :class:`SipUnavailable` is retried: a 4xx (:class:`SipRejected`) would fail the same
way again. After ``threshold`` consecutive failures the breaker opens and calls fail fast
for ``reset_seconds`` (the SQS message is retried later instead of hammering a LiveKit
that is down); then one trial call is let through (half-open).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from tenacity import (
    AsyncRetrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from functions.provision.models.errors import SipUnavailable

T = TypeVar("T")
P = ParamSpec("P")


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
    """Run ``operation``; retry :class:`SipUnavailable` with full-jitter exponential
    backoff (tenacity's ``wait_random_exponential``: concurrent workers retrying together
    would stampede LiveKit). Every attempt goes through the breaker."""

    async def attempt() -> T:
        breaker.before_call()
        try:
            result = await operation()
        except SipUnavailable:
            breaker.record_failure()
            raise
        breaker.record_success()
        return result

    retrying = AsyncRetrying(
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=base_seconds),
        retry=retry_if_exception_type(SipUnavailable),
        sleep=sleep,
        reraise=True,
    )
    return await retrying(attempt)


@dataclass(frozen=True)
class SipRetry:
    """The retry policy applied where provisioning calls LiveKit, tenacity-style:
    ``await deps.retry(deps.sip.list_trunks, numbers=[number])``."""

    breaker: CircuitBreaker
    attempts: int = 3
    base_seconds: float = 0.2
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def __call__(
        self, call: Callable[P, Awaitable[T]], /, *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await call_with_retries(
            lambda: call(*args, **kwargs),
            breaker=self.breaker,
            attempts=self.attempts,
            base_seconds=self.base_seconds,
            sleep=self.sleep,
        )
