"""A tenant's customer as the ordering channels remember them (per tenant, by phone)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime, PhoneNumber, TenantId, utc_now


class RememberedLine(BaseModel):
    """One line of the last order, by menu ids only: re-priced from the menu of the day."""

    model_config = ConfigDict(frozen=True)

    item_id: str
    option_id: str | None = None
    quantity: int = Field(ge=1, le=100)
    flavours: list[str] = Field(default_factory=list, max_length=4)
    modifiers: list[str] = Field(default_factory=list, max_length=20)
    notes: str | None = Field(None, max_length=200)


class Customer(BaseModel):
    """The name a caller gave and their last order; deleted on request (LGPD)."""

    tenant_id: TenantId
    phone: PhoneNumber
    name: str | None = Field(None, max_length=120)
    last_order: list[RememberedLine] = Field(default_factory=list, max_length=50)
    orders: int = Field(0, ge=0)
    updated_at: AwareDatetime = Field(default_factory=utc_now)
