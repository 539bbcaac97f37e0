"""The platform's envelope for an event received from outside (a webhook delivery).

Webhook ingress normalises every provider's payload into this shape before it enqueues;
every queue consumer parses it back with :meth:`InboundEvent.model_validate_json`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, TenantId, utc_now


class Provider(StrEnum):
    LIVEKIT = "livekit"
    BLING = "bling"
    ASAAS = "asaas"
    PLUGGTO = "pluggto"
    ZAPI = "zapi"
    EVOLUTION = "evolution"
    CUSTOM = "custom"
    INGEST = "ingest"  # batches pushed by an on-premises extractor
    SCHEDULE = "schedule"  # jobs the platform creates itself


class InboundEvent(BaseModel):
    """One external event, normalised. ``provider_event_id`` is the de-duplication key."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId | None = Field(
        None, description="None only for LiveKit events resolved to a tenant downstream"
    )
    provider: Provider
    provider_event_id: str = Field(min_length=1, max_length=256)
    type: str = Field(min_length=1, max_length=128, description="provider's event type")
    occurred_at: AwareDatetime
    received_at: AwareDatetime = Field(default_factory=utc_now)
    correlation_id: str = Field(min_length=1, max_length=128)
    payload: dict[str, Any] = Field(default_factory=dict)

    @property
    def dedupe_key(self) -> str:
        """Stable key for exactly-once processing: tenant, provider and provider id."""
        return f"{self.tenant_id or '-'}#{self.provider.value}#{self.provider_event_id}"
