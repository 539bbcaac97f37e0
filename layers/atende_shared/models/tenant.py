"""The tenant (a business), its agent configuration and its billing plan."""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from atende_shared.models.common import AwareDatetime, Cents, PhoneNumber, TenantId, utc_now


class TenantStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # balance exhausted or admin action: calls get a polite refusal
    CLOSED = "closed"  # offboarded: numbers released, nothing answers


class SuspensionReason(StrEnum):
    """Who holds a tenant suspended. Each party lifts only its own hold, so a top-up never
    resumes a tenant an admin suspended, and an admin's resume never hides an empty balance."""

    ADMIN = "admin"
    BALANCE = "balance"


class Weekday(StrEnum):
    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class OpeningWindow(BaseModel):
    """One opening window on a weekday, in the tenant's local time."""

    model_config = ConfigDict(frozen=True)

    day: Weekday
    opens: time
    closes: time

    @model_validator(mode="after")
    def _ordered(self) -> OpeningWindow:
        if self.closes <= self.opens:
            raise ValueError("closes must be after opens (split overnight windows in two)")
        return self


class CatalogSource(StrEnum):
    MANUAL = "manual"  # menu uploaded through the admin API
    BLING = "bling"
    PLUGGTO = "pluggto"
    MONGODB = "mongodb"
    PUSH = "push"  # batches pushed by an on-premises extractor


class PaymentProvider(StrEnum):
    NONE = "none"
    ASAAS = "asaas"


class Integrations(BaseModel):
    """Which external systems a tenant uses. Secrets live in Secrets Manager under
    ``atende/<stage>/tenants/<tenant_id>/<integration>``; only their presence is stored."""

    catalog_source: CatalogSource = CatalogSource.MANUAL
    payment_provider: PaymentProvider = PaymentProvider.NONE
    payment_customer_id: str | None = Field(None, max_length=64)
    whatsapp_gateway: Literal["zapi", "evolution"] | None = None
    secrets_configured: list[str] = Field(default_factory=list)


class BillingPlan(BaseModel):
    """How a tenant's calls are rated. Integer cents only."""

    model_config = ConfigDict(frozen=True)

    price_per_minute_cents: Cents = 90
    rounding: Literal["per_second", "per_started_minute"] = "per_second"
    minimum_billable_seconds: int = Field(0, ge=0, le=3600)
    included_minutes_per_month: int = Field(0, ge=0)
    free_ring_seconds: int = Field(0, ge=0, le=120)
    reservation_minutes: int = Field(5, ge=1, le=240)
    low_balance_threshold_cents: Cents = 2_000
    balance_floor_cents: int = Field(0, le=0)


class OrderSettings(BaseModel):
    """How the tenant receives orders and who is told (the orders domain reads these)."""

    acceptance_window_minutes: int = Field(
        5, ge=1, le=120, description="a 'received' order older than this triggers a reminder"
    )
    on_acceptance_timeout: Literal["keep_waiting", "refuse"] = "keep_waiting"
    notification_phone: PhoneNumber | None = Field(
        None, description="the restaurant's WhatsApp that is told of each new order"
    )
    notify_customer: bool = Field(True, description="WhatsApp the customer on order changes")
    estimated_delivery_minutes: int = Field(45, ge=5, le=240)
    estimated_pickup_minutes: int = Field(25, ge=5, le=240)


class WhatsAppSettings(BaseModel):
    """The WhatsApp ordering channel's per-tenant knobs."""

    enabled: bool = True
    session_idle_minutes: int = Field(30, ge=5, le=24 * 60)
    human_pause_hours: int = Field(12, ge=1, le=7 * 24)
    group_chats: bool = False
    daily_llm_turn_cap: int = Field(2_000, ge=0, le=1_000_000)
    messages_per_minute_per_customer: int = Field(20, ge=1, le=600)


_CEP = r"^\d{5}-?\d{3}$"


class PostalCodeRange(BaseModel):
    """An inclusive CEP range (``01000-000`` .. ``01599-999``)."""

    model_config = ConfigDict(frozen=True)

    start: str = Field(pattern=_CEP)
    end: str = Field(pattern=_CEP)

    @model_validator(mode="after")
    def _ordered(self) -> PostalCodeRange:
        if self.end.replace("-", "") < self.start.replace("-", ""):
            raise ValueError(f"CEP range {self.start}..{self.end}: end is before start")
        return self

    def contains(self, cep_digits: str) -> bool:
        return self.start.replace("-", "") <= cep_digits <= self.end.replace("-", "")


class DeliveryZone(BaseModel):
    """Where the tenant delivers, and for how much: by neighbourhood and/or CEP ranges."""

    model_config = ConfigDict(frozen=True)

    zone_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
    name: str = Field(min_length=1, max_length=120)
    neighbourhoods: list[str] = Field(default_factory=list, max_length=200)
    postal_codes: list[PostalCodeRange] = Field(default_factory=list, max_length=100)
    fee_cents: Cents = 0
    minimum_order_cents: Cents = 0
    estimated_minutes: int = Field(45, ge=5, le=240)

    @model_validator(mode="after")
    def _has_an_area(self) -> DeliveryZone:
        if not self.neighbourhoods and not self.postal_codes:
            raise ValueError(f"delivery zone {self.zone_id}: name neighbourhoods or CEP ranges")
        return self


PaymentMethodName = Literal["cash", "credit_card", "debit_card", "pix"]
_ALL_METHODS: tuple[PaymentMethodName, ...] = ("cash", "credit_card", "debit_card", "pix")


class DeliverySettings(BaseModel):
    """Fulfilment, payment and fractional-pricing rules of the ordering channels.

    No zones = delivery anywhere without a fee (how tenants worked before zones existed)."""

    delivery: bool = True
    pickup: bool = True
    zones: list[DeliveryZone] = Field(default_factory=list, max_length=100)
    payment_methods: list[PaymentMethodName] = Field(
        default_factory=lambda: list(_ALL_METHODS), min_length=1
    )
    flavour_pricing: Literal["highest", "average"] = Field(
        "highest", description="a pizza of several flavours costs its dearest flavour, or the mean"
    )

    @model_validator(mode="after")
    def _some_fulfilment(self) -> DeliverySettings:
        if not (self.delivery or self.pickup):
            raise ValueError("offer delivery, pickup or both")
        ids = [z.zone_id for z in self.zones]
        if len(ids) != len(set(ids)):
            raise ValueError("delivery zone ids must be unique")
        return self


class Tenant(BaseModel):
    """A business on the platform."""

    tenant_id: TenantId
    name: str = Field(min_length=1, max_length=200)
    legal_id: str | None = Field(None, max_length=32, description="CNPJ/CPF or equivalent")
    time_zone: str = Field("America/Sao_Paulo", max_length=64)
    languages: list[str] = Field(default_factory=lambda: ["pt-BR"], min_length=1)
    opening_hours: list[OpeningWindow] = Field(default_factory=list)
    status: TenantStatus = TenantStatus.ACTIVE
    integrations: Integrations = Field(default_factory=Integrations)
    plan: BillingPlan = Field(default_factory=BillingPlan)
    orders: OrderSettings = Field(default_factory=OrderSettings)
    whatsapp: WhatsAppSettings = Field(default_factory=WhatsAppSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    suspended_for: list[SuspensionReason] = Field(
        default_factory=list, description="the holds keeping the tenant suspended"
    )
    version: int = Field(0, ge=0, description="optimistic-concurrency counter of the profile")
    created_at: AwareDatetime = Field(default_factory=utc_now)
    updated_at: AwareDatetime = Field(default_factory=utc_now)

    @model_validator(mode="after")
    def _holds_match_status(self) -> Tenant:
        holds = sorted(set(self.suspended_for))
        if self.status is TenantStatus.SUSPENDED and not holds:
            # Written before holds existed (or seeded suspended): an admin's doing.
            holds = [SuspensionReason.ADMIN]
        elif self.status is TenantStatus.ACTIVE:
            holds = []
        if holds != self.suspended_for:
            self.suspended_for = holds
        return self

    def held(self, reason: SuspensionReason) -> Tenant:
        """This tenant with ``reason``'s hold added: suspended, unless it is closed."""
        if self.status is TenantStatus.CLOSED or reason in self.suspended_for:
            return self
        return self.model_copy(
            update={
                "status": TenantStatus.SUSPENDED,
                "suspended_for": sorted({*self.suspended_for, reason}),
            }
        )

    def released(self, reason: SuspensionReason) -> Tenant:
        """This tenant with ``reason``'s hold lifted: active once no hold is left."""
        if reason not in self.suspended_for:
            return self
        holds = [r for r in self.suspended_for if r is not reason]
        status = TenantStatus.SUSPENDED if holds else TenantStatus.ACTIVE
        return self.model_copy(update={"status": status, "suspended_for": holds})


class AfterHoursBehaviour(StrEnum):
    TAKE_MESSAGE = "take_message"
    REFUSE_POLITELY = "refuse_politely"
    TAKE_ORDERS_ANYWAY = "take_orders_anyway"


class AgentConfig(BaseModel):
    """How the voice agent behaves for one tenant."""

    tenant_id: TenantId
    greeting: str = Field(
        "Olá! Você ligou para {business}. Eu sou a assistente virtual. O que vai ser hoje?",
        max_length=500,
    )
    instructions: str = Field("", max_length=8_000, description="what the agent may and may not do")
    upsell_hints: list[str] = Field(default_factory=list, max_length=20)
    voice: str = Field("alloy", max_length=64)
    language: str = Field("pt-BR", max_length=16)
    transfer_number: PhoneNumber | None = None
    max_call_seconds: int = Field(900, ge=60, le=7_200)
    after_hours: AfterHoursBehaviour = AfterHoursBehaviour.REFUSE_POLITELY
