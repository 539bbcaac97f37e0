"""Payload of custom integrations signed with Standard Webhooks: ``{type, data, timestamp?}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.webhooks.models.common import ProviderDatetime


class CustomEvent(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = Field(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)+$", max_length=128)
    data: dict[str, Any]
    timestamp: ProviderDatetime | None = None
