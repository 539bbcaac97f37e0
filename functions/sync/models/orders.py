"""The write-back state of an order placed by the agent."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field

from atende_shared.models.common import AwareDatetime, TenantId, utc_now


class OrderSyncStatus(StrEnum):
    PENDING = "pending"
    SYNCED = "synced"
    FAILED = "failed"  # a permanent refusal by the target (retries will not help)
    NOT_APPLICABLE = "not_applicable"  # the tenant has no order target


class OrderSync(BaseModel):
    tenant_id: TenantId
    order_id: str = Field(min_length=1, max_length=128)
    target: str
    status: OrderSyncStatus = OrderSyncStatus.PENDING
    external_id: str | None = None
    attempts: int = 0
    last_error: str | None = Field(None, max_length=500)
    updated_at: AwareDatetime = Field(default_factory=utc_now)
