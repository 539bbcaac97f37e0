"""Short-lived LiveKit tokens that let an admin talk to a tenant's agent from a browser."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

from atende_shared.errors import DependencyUnavailable, ValidationFailed
from atende_shared.models.tenant import TenantStatus
from atende_shared.ports.tenants import TenantStore
from atende_shared.rooms import dispatch_metadata, room_prefix
from functions.provision.models.api import TestCallToken


def issue_test_call_token(
    store: TenantStore,
    tenant_id: str,
    *,
    api_key: str | None,
    api_secret: str | None,
    livekit_url: str | None,
    agent_name: str,
    ttl_seconds: int,
    now: datetime | None = None,
) -> TestCallToken:
    """A token to join one fresh room ``<room_prefix>test-<random>`` only, whose room
    configuration dispatches the tenant's voice agent with the tenant in its metadata."""
    # Imported on first use: livekit-api pulls in aiohttp (~200 ms of the admin API's cold
    # start) and only this route needs it.
    from livekit.api import AccessToken, RoomAgentDispatch, RoomConfiguration, VideoGrants

    tenant = store.get_tenant(tenant_id)
    if tenant.status == TenantStatus.CLOSED:
        raise ValidationFailed(f"tenant {tenant_id!r} is closed")
    if not (api_key and api_secret):
        raise DependencyUnavailable("LiveKit is not configured (LIVEKIT_API_KEY/SECRET)")
    room = f"{room_prefix(tenant_id)}test-{secrets.token_hex(6)}"
    identity = f"admin-test-{secrets.token_hex(4)}"
    issued = now or datetime.now(UTC)
    token = (
        AccessToken(api_key, api_secret)
        .with_identity(identity)
        .with_name("Atende admin test call")
        .with_grants(VideoGrants(room_join=True, room=room, can_publish=True, can_subscribe=True))
        .with_room_config(
            RoomConfiguration(
                agents=[
                    RoomAgentDispatch(agent_name=agent_name, metadata=dispatch_metadata(tenant_id))
                ]
            )
        )
        .with_ttl(timedelta(seconds=ttl_seconds))
        .to_jwt()
    )
    return TestCallToken(
        token=token,
        livekit_url=livekit_url,
        room_name=room,
        identity=identity,
        agent_name=agent_name,
        expires_at=issued + timedelta(seconds=ttl_seconds),
    )
