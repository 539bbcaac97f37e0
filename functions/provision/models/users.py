"""Restaurant users (console sign-in): invitations by an admin."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class UserInvite(BaseModel):
    """``POST /v1/tenants/{tenant_id}/users``: who to invite, with which role."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(
        min_length=6,
        max_length=254,
        pattern=r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$",
        description="the user's e-mail: sign-in name and where the invitation goes",
    )
    role: Literal["owner", "staff"] = "staff"


class TenantUserView(BaseModel):
    username: str
    email: str
    tenant_id: str
    role: Literal["owner", "staff"]
    status: str = Field(description="FORCE_CHANGE_PASSWORD until the first sign-in")
