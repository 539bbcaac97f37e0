"""Bling API v3 webhook payload: ``{eventId, date, version, event, companyId, data}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.webhooks.models.common import EventId, ProviderDatetime

#: Resources Bling documents webhooks for; the event is ``<resource>.<action>``.
BLING_EVENT_PATTERN = r"^(order|product|stock|virtual_stock)\.[a-z_]{1,40}$"


class BlingWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    event_id: EventId = Field(alias="eventId")
    date: ProviderDatetime
    version: str = Field(min_length=1, max_length=16)
    event: str = Field(pattern=BLING_EVENT_PATTERN)
    company_id: str = Field(alias="companyId", min_length=1, max_length=128)
    data: dict[str, Any]
