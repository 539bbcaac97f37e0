"""Retries and a circuit breaker around a gateway client.

- **Retries** (``tenacity``, the project's one retry library): transient failures only,
  exponential backoff with jitter, a few attempts within one invocation. What still fails
  goes back to the caller, whose SQS record is retried later and lands in the DLQ at last.
- **Circuit breaker** (``pybreaker``, one per tenant gateway instance and process): after
  ``fail_max`` transient failures in a row the gateway is not called for ``reset_timeout``
  seconds; meanwhile sends fail fast as transient (the queue retries them later) instead of
  holding a Lambda for timeouts. Permanent refusals (a wrong token, an unknown number) say
  nothing about the gateway's health and never open it. The state lives in the process
  (a warm Lambda container): no shared store to read on every send, and each container
  learns of an outage after ``fail_max`` failures — a small cost for a simple mechanism.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Protocol

import pybreaker
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from atende_shared.observability import logger
from atende_shared.whatsapp import OutboundText, SendResult, WhatsAppSendError


class GatewayClient(Protocol):
    gateway: str
    breaker_key: str

    def send_text(self, message: OutboundText) -> SendResult: ...


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    initial_wait_seconds: float = 0.2
    max_wait_seconds: float = 2.0
    breaker_fail_max: int = 5
    breaker_reset_seconds: float = 30.0


DEFAULT_POLICY = RetryPolicy()

_breakers: dict[str, pybreaker.CircuitBreaker] = {}
_breakers_lock = threading.Lock()


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, WhatsAppSendError) and exc.transient


def _is_permanent(exc: BaseException) -> bool:
    return isinstance(exc, WhatsAppSendError) and not exc.transient


def breaker_for(key: str, policy: RetryPolicy = DEFAULT_POLICY) -> pybreaker.CircuitBreaker:
    """The process-wide breaker of one gateway instance (created on first use)."""
    with _breakers_lock:
        breaker = _breakers.get(key)
        if breaker is None:
            breaker = pybreaker.CircuitBreaker(
                fail_max=policy.breaker_fail_max,
                reset_timeout=policy.breaker_reset_seconds,
                exclude=[_is_permanent],
                name=key,
                throw_new_error_on_trip=False,
            )
            _breakers[key] = breaker
        return breaker


def reset_breakers() -> None:
    """Forget every breaker (tests, and the local platform between runs)."""
    with _breakers_lock:
        _breakers.clear()


class ResilientSender:
    """A :class:`~atende_shared.whatsapp.WhatsAppSender`: the client behind its breaker,
    retried on transient failures."""

    def __init__(self, client: GatewayClient, policy: RetryPolicy = DEFAULT_POLICY) -> None:
        self._client = client
        self._policy = policy
        self._breaker = breaker_for(client.breaker_key, policy)

    @property
    def gateway(self) -> str:
        return self._client.gateway

    def _once(self, message: OutboundText) -> SendResult:
        try:
            result: SendResult = self._breaker.call(self._client.send_text, message)
        except pybreaker.CircuitBreakerError as exc:
            raise WhatsAppSendError(
                f"{self._client.gateway} circuit open after repeated failures; not called",
                transient=True,
            ) from exc
        return result

    def send_text(self, message: OutboundText) -> SendResult:
        retrying = Retrying(
            stop=stop_after_attempt(self._policy.attempts),
            wait=wait_exponential_jitter(
                initial=self._policy.initial_wait_seconds, max=self._policy.max_wait_seconds
            ),
            retry=retry_if_exception(_is_transient),
            reraise=True,
            before_sleep=lambda state: logger.warning(
                "whatsapp send retry",
                extra={
                    "gateway": self._client.gateway,
                    "attempt": state.attempt_number,
                    "reason": str(state.outcome.exception()) if state.outcome else None,
                },
            ),
        )
        result: SendResult = retrying(self._once, message)
        return result
