"""Request and response bodies of the admin API (they generate its OpenAPI document)."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from atende_shared.models.common import AwareDatetime, PhoneNumber, TenantId
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import (
    AfterHoursBehaviour,
    BillingPlan,
    CatalogSource,
    Integrations,
    OpeningWindow,
    OrderSettings,
    PaymentProvider,
    Tenant,
)

_LANGUAGE = r"^[a-z]{2,3}(-[A-Z]{2})?$"


def _check_time_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. America/Sao_Paulo)") from exc
    return value


def _check_languages(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    bad = [v for v in value if not re.fullmatch(_LANGUAGE, v)]
    if bad:
        raise ValueError(f"not BCP 47 language tags like 'pt-BR': {bad}")
    return value


class _Strict(BaseModel):
    # Unknown fields are refused so a typo ("langauges") is a 422, not silently dropped.
    model_config = ConfigDict(extra="forbid")


class IntegrationsInput(_Strict):
    """Which systems the tenant uses. Secrets are never sent here (see tenant_secrets)."""

    catalog_source: CatalogSource = CatalogSource.MANUAL
    payment_provider: PaymentProvider = PaymentProvider.NONE
    payment_customer_id: str | None = Field(None, max_length=64)
    whatsapp_gateway: Literal["zapi", "evolution"] | None = None


class TenantCreate(_Strict):
    """``POST /v1/tenants``."""

    tenant_id: TenantId = Field(description="slug: lowercase letters, digits and dashes")
    name: str = Field(min_length=1, max_length=200)
    legal_id: str | None = Field(None, max_length=32, description="CNPJ/CPF or equivalent")
    time_zone: str = Field("America/Sao_Paulo", max_length=64)
    languages: list[str] = Field(default_factory=lambda: ["pt-BR"], min_length=1, max_length=10)
    opening_hours: list[OpeningWindow] = Field(default_factory=list, max_length=50)
    integrations: IntegrationsInput = Field(default_factory=IntegrationsInput)
    plan: BillingPlan = Field(default_factory=BillingPlan)

    _tz = field_validator("time_zone")(_check_time_zone)
    _langs = field_validator("languages")(_check_languages)


class TenantPatch(_Strict):
    """``PATCH /v1/tenants/{tenant_id}``: only the fields sent change. Status changes go
    through ``/suspend`` and ``/resume`` so their events are published."""

    name: str | None = Field(None, min_length=1, max_length=200)
    legal_id: str | None = Field(None, max_length=32)
    time_zone: str | None = Field(None, max_length=64)
    languages: list[str] | None = Field(None, min_length=1, max_length=10)
    opening_hours: list[OpeningWindow] | None = Field(None, max_length=50)
    integrations: IntegrationsInput | None = None
    plan: BillingPlan | None = None

    _tz = field_validator("time_zone")(_check_time_zone)
    _langs = field_validator("languages")(_check_languages)


class ShopSettingsPatch(_Strict):
    """``PATCH /v1/tenants/{tenant_id}/shop``: what the restaurant itself may change (the
    console's settings page): languages, opening hours and how orders reach it. Never
    the plan, the integrations or the status (admins, ``PATCH /v1/tenants/{tenant_id}``)."""

    languages: list[str] | None = Field(None, min_length=1, max_length=10)
    opening_hours: list[OpeningWindow] | None = Field(None, max_length=50)
    notification_phone: PhoneNumber | None = Field(
        None, description="the restaurant's WhatsApp told of each new order"
    )
    acceptance_window_minutes: int | None = Field(None, ge=1, le=120)
    on_acceptance_timeout: Literal["keep_waiting", "refuse"] | None = None

    _langs = field_validator("languages")(_check_languages)


class TenantView(BaseModel):
    """A tenant as the API shows it: secrets only by name (``secrets_configured``)."""

    tenant_id: TenantId
    name: str
    legal_id: str | None
    time_zone: str
    languages: list[str]
    opening_hours: list[OpeningWindow]
    status: str
    suspended_for: list[str] = Field(
        default_factory=list, description="who holds it suspended: admin, balance"
    )
    integrations: Integrations
    plan: BillingPlan
    version: int = Field(0, description="send it back as If-Match on PATCH to detect lost updates")
    orders: OrderSettings | None = Field(None, description="how orders are received and told")
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, tenant: Tenant) -> TenantView:
        return cls.model_validate(tenant.model_dump())


class PhoneStatus(StrEnum):
    PENDING = "pending"  # assigned, provisioning queued
    ACTIVE = "active"  # trunk and rule exist in LiveKit
    SUSPENDED = "suspended"  # dispatch kept, agent answers in suspended mode
    RELEASING = "releasing"  # release queued
    ERROR = "error"  # LiveKit refused; see ``error``


class PhoneNumberAssign(_Strict):
    """``POST /v1/tenants/{tenant_id}/phone-numbers``."""

    number: str = Field(
        min_length=3,
        max_length=32,
        description="E.164, separators allowed: '+55 11 3000-0000' becomes '+551130000000'",
    )


class PhoneNumberView(BaseModel):
    """A number assigned to a tenant and where its provisioning stands."""

    number: str
    tenant_id: TenantId
    status: PhoneStatus
    trunk_id: str | None = None
    dispatch_rule_id: str | None = None
    error: str | None = None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class StatusChange(BaseModel):
    """Answer of ``/suspend`` and ``/resume``."""

    tenant_id: TenantId
    status: str
    suspended_for: list[str] = Field(
        default_factory=list, description="the holds left: admin, balance"
    )
    changed: bool = Field(description="false when the status did not move")


class TestCallToken(BaseModel):
    """A short-lived LiveKit token to talk to the agent from a browser."""

    token: str
    livekit_url: str | None
    room_name: str
    identity: str
    agent_name: str
    expires_at: datetime


class AgentConfigInput(_Strict):
    """``PUT /v1/tenants/{tenant_id}/agent``: the whole agent configuration."""

    greeting: str = Field(
        "Olá! Você ligou para {business}. Eu sou a assistente virtual. O que vai ser hoje?",
        min_length=1,
        max_length=500,
    )
    instructions: str = Field("", max_length=8_000, description="what the agent may and may not do")
    upsell_hints: list[str] = Field(default_factory=list, max_length=20)
    voice: str = Field("alloy", min_length=1, max_length=64)
    language: str = Field("pt-BR", pattern=_LANGUAGE)
    transfer_number: PhoneNumber | None = Field(None, description="E.164 transfer-to-human number")
    max_call_seconds: int = Field(900, ge=60, le=7_200)
    after_hours: AfterHoursBehaviour = AfterHoursBehaviour.REFUSE_POLITELY


class AgentConfigView(BaseModel):
    tenant_id: TenantId
    greeting: str
    instructions: str
    upsell_hints: list[str]
    voice: str
    language: str
    transfer_number: str | None
    max_call_seconds: int
    after_hours: AfterHoursBehaviour


class MenuView(BaseModel):
    """The menu with its content version (a hash: same menu, same version)."""

    menu: Menu
    menu_version: str
    changed: bool | None = Field(None, description="PUT only: whether anything changed")
