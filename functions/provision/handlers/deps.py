"""Builds the provisioning dependencies from validated settings (worker and reconcile).

The circuit breaker is per process and per LiveKit URL so it survives across
invocations of a warm Lambda; the LiveKit client is per event loop (aiohttp).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache

from atende_shared.dal.tenants import tenant_store
from atende_shared.errors import ConfigurationError
from functions.provision.dal.leases import lease_store
from functions.provision.dal.livekit_sip import LiveKitSip
from functions.provision.dal.phones import phone_store
from functions.provision.logic.provisioner import SipDeps
from functions.provision.logic.resilience import CircuitBreaker, SipRetry
from functions.provision.settings import SipSettings


@cache
def breaker(url: str, threshold: int, reset_seconds: float) -> CircuitBreaker:
    return CircuitBreaker(threshold=threshold, reset_seconds=reset_seconds)


@asynccontextmanager
async def sip_deps(settings: SipSettings) -> AsyncIterator[SipDeps]:
    """Open a LiveKit client for this event loop and yield the wired dependencies."""
    url, key, secret = (
        settings.livekit_url,
        settings.livekit_api_key,
        settings.resolved_api_secret(),
    )
    if not (url and key and secret):
        raise ConfigurationError("LIVEKIT_URL, LIVEKIT_API_KEY and LIVEKIT_API_SECRET are required")
    client = LiveKitSip(
        url,
        key,
        secret,
        timeout_seconds=settings.livekit_timeout_seconds,
    )
    try:
        yield SipDeps(
            sip=client,
            retry=SipRetry(
                breaker=breaker(url, settings.breaker_threshold, settings.breaker_reset_seconds),
                attempts=settings.retry_attempts,
                base_seconds=settings.retry_base_seconds,
            ),
            phones=phone_store(settings.main_table),
            tenants=tenant_store(settings.main_table),
            leases=lease_store(settings.main_table),
            agent_name=settings.voice_agent_name,
            lease_seconds=settings.lease_seconds,
            lease_wait_seconds=settings.lease_wait_seconds,
        )
    finally:
        await client.close()
