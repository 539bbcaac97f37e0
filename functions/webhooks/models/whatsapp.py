"""WhatsApp gateway payloads: Z-API callbacks and Evolution API webhooks.

Only inbound messages are ingested (Z-API ``ReceivedCallback``, Evolution
``messages.upsert``); status, presence and connection callbacks are acknowledged and
dropped. Both gateways echo the messages we send with ``fromMe: true``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from functions.webhooks.models.common import EventId, ProviderDatetime

ZAPI_RECEIVED = "ReceivedCallback"
EVOLUTION_MESSAGES_UPSERT = "messages.upsert"


class ZapiCallback(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    type: str = Field(min_length=1, max_length=64)
    instance_id: str | None = Field(None, alias="instanceId", max_length=128)
    message_id: EventId | None = Field(None, alias="messageId")
    from_me: bool = Field(False, alias="fromMe")
    phone: str | None = Field(None, max_length=64)
    momment: ProviderDatetime | None = None  # sic: Z-API's spelling, epoch milliseconds

    @model_validator(mode="after")
    def _received_needs_id(self) -> ZapiCallback:
        if self.type.lower() == ZAPI_RECEIVED.lower() and not self.message_id:
            raise ValueError("a ReceivedCallback must carry messageId")
        return self


class EvolutionWebhook(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    event: str = Field(min_length=1, max_length=64)
    instance: str = Field(min_length=1, max_length=128)
    data: Any = None
    date_time: ProviderDatetime | None = None
    apikey: str | None = Field(None, max_length=512)

    @property
    def normalised_event(self) -> str:
        """``MESSAGES_UPSERT`` (per-event webhooks) and ``messages.upsert`` are one event."""
        return self.event.lower().replace("_", ".")
