"""Phone numbers as stored, and the jobs the provisioning queue carries."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, PhoneNumber, TenantId, utc_now
from functions.provision.models.api import PhoneStatus


class PhoneRecord(BaseModel):
    """A number assigned to a tenant and the LiveKit resources that make it ring."""

    model_config = ConfigDict(frozen=True)

    tenant_id: TenantId
    number: PhoneNumber
    status: PhoneStatus = PhoneStatus.PENDING
    trunk_id: str | None = None
    dispatch_rule_id: str | None = None
    error: str | None = Field(None, max_length=1_000)
    created_at: AwareDatetime = Field(default_factory=utc_now)
    updated_at: AwareDatetime = Field(default_factory=utc_now)


class ProvisioningJob(BaseModel):
    """A message on the provisioning queue sent by the admin API."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["ensure", "release"]
    tenant_id: TenantId
    number: PhoneNumber
