"""Bodies of the billing admin API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class CreditRequest(BaseModel):
    """``POST /v1/tenants/{tenant_id}/credits``: a manual credit (or negative adjustment)."""

    model_config = ConfigDict(extra="forbid")

    amount_cents: int = Field(ge=-(10**9), le=10**9, description="signed, non-zero")
    reason: str = Field(min_length=3, max_length=500)
    idempotency_key: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
