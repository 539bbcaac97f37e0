"""Retries and the circuit breaker, with a fake clock and no sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from functions.provision.logic.resilience import CircuitBreaker, call_with_retries
from functions.provision.models.errors import SipRejected, SipUnavailable


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def _no_sleep(_: float) -> None:
    return None


def run(operation: Callable[[], Awaitable[str]], breaker: CircuitBreaker, attempts: int = 3) -> str:
    return asyncio.run(
        call_with_retries(
            operation, breaker=breaker, attempts=attempts, base_seconds=0.1, sleep=_no_sleep
        )
    )


def test_unavailable_is_retried_then_succeeds() -> None:
    calls: list[int] = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise SipUnavailable("503")
        return "ok"

    assert run(flaky, CircuitBreaker(threshold=10, reset_seconds=1)) == "ok"
    assert len(calls) == 3


def test_rejections_are_never_retried() -> None:
    calls: list[int] = []

    async def refused() -> str:
        calls.append(1)
        raise SipRejected("bad request")

    with pytest.raises(SipRejected):
        run(refused, CircuitBreaker(threshold=10, reset_seconds=1))
    assert len(calls) == 1


def test_breaker_opens_fails_fast_then_half_opens() -> None:
    clock = Clock()
    breaker = CircuitBreaker(threshold=2, reset_seconds=30, clock=clock)
    calls: list[int] = []

    async def down() -> str:
        calls.append(1)
        raise SipUnavailable("down")

    with pytest.raises(SipUnavailable):
        run(down, breaker, attempts=2)
    assert breaker.state == "open"
    with pytest.raises(SipUnavailable, match="circuit breaker is open"):
        run(down, breaker)
    assert len(calls) == 2  # the open breaker did not call

    async def back() -> str:
        return "ok"

    clock.now = 31
    assert breaker.state == "half-open"
    assert run(back, breaker) == "ok"
    assert breaker.state == "closed"
