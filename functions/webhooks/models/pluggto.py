"""Plugg.to notification: ``{type, id, action, user, changes}``; the record itself is re-read
from Plugg.to by sync (the notification is unsigned, so its content is never trusted)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class PluggtoNotification(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: str = Field(min_length=1, max_length=64)
    id: str = Field(min_length=1, max_length=128)
    action: str = Field(min_length=1, max_length=60)
    user: int | str
    changes: dict[str, Any] = Field(default_factory=dict)
