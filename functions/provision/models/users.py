"""Restaurant users (console sign-in): invitations by an admin."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UserInvite(BaseModel):
    """``POST /v1/tenants/{tenant_id}/users``: who to invite, with which role."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", description="sign-in"
    )
    role: Literal["owner", "staff"] = "staff"


class TenantUserView(BaseModel):
    username: str
    email: str
    tenant_id: str
    role: Literal["owner", "staff"]
    status: str = Field(description="FORCE_CHANGE_PASSWORD until the first sign-in")
