"""Asaas webhook payload: ``{id, event, dateCreated, payment?, ...}``."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from functions.webhooks.models.common import EventId, ProviderDatetime


class AsaasWebhook(BaseModel):
    """``PAYMENT_RECEIVED``, ``PAYMENT_CONFIRMED``, ``PAYMENT_REFUNDED``,
    ``PAYMENT_CHARGEBACK_REQUESTED``... ``id`` is the event id Asaas asks to dedupe on."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, frozen=True)

    id: EventId
    event: str = Field(pattern=r"^[A-Z][A-Z0-9_]{0,127}$")
    date_created: ProviderDatetime = Field(alias="dateCreated")
    payment: dict[str, Any] | None = None
