"""Bling API v3 webhook payload: ``{eventId, date, version, event, companyId, data}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.webhooks.models.common import EventId, ProviderDatetime

#: The event is ``<resource>.<action>`` (``product.updated``, ``invoice.created``,
#: ``consumer_invoice.created``, ``product_supplier.updated``...). Any resource is read;
#: only these are enqueued, the rest are acknowledged (200 ``ignored``): Bling retries a
#: refused delivery for days.
BLING_EVENT_PATTERN = r"^[a-z][a-z_]{0,40}\.[a-z_]{1,40}$"
BLING_RESOURCES = frozenset({"order", "product", "stock", "virtual_stock"})


class BlingWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    event_id: EventId = Field(alias="eventId")
    date: ProviderDatetime
    version: str = Field(min_length=1, max_length=16)
    event: str = Field(pattern=BLING_EVENT_PATTERN)
    company_id: str = Field(alias="companyId", min_length=1, max_length=128)
    data: dict[str, Any]

    @property
    def resource(self) -> str:
        return self.event.partition(".")[0]
