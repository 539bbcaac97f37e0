"""Environment models of the billing functions, composed from the shared mixins."""

from __future__ import annotations

from pydantic import Field

from atende_shared.settings import (
    ArtifactsBucketSettings,
    EventBusSettings,
    MainTableSettings,
    ServiceSettings,
)


class BillingTunables(ServiceSettings):
    """Knobs of the session state machine and the provider price table's exchange rate."""

    #: How long a finished room waits for a late ``participant_left`` before the sweeper
    #: rates it at the room's end: LiveKit may deliver the two out of order.
    end_grace_seconds: int = Field(120, validation_alias="ATENDE_BILLING_END_GRACE_SECONDS", ge=0)
    #: Attempts of the optimistic balance/session update before the record fails (SQS retries).
    max_commit_attempts: int = Field(
        40, validation_alias="ATENDE_BILLING_MAX_COMMIT_ATTEMPTS", ge=1, le=500
    )
    #: How long a warm Lambda reuses a tenant's plan/status for rating.
    tenant_cache_seconds: float = Field(
        30.0, validation_alias="ATENDE_BILLING_TENANT_CACHE_SECONDS", ge=0, le=3_600
    )
    #: USD→BRL rate used to price provider usage (the price table is in USD).
    usd_brl_rate: str = Field("5.40", validation_alias="ATENDE_BILLING_USD_BRL_RATE")
    #: Asaas' API, where a payment is verified before it is credited (when the tenant's
    #: Asaas ``api_key`` is configured). ``off`` disables verification (the local platform,
    #: whose demo key is not a real one); the sandbox is ``https://api-sandbox.asaas.com``.
    asaas_api_url: str = Field("https://api.asaas.com", validation_alias="ATENDE_ASAAS_API_URL")
    #: Optional JSON overriding the provider price table (``ProviderPriceTable`` fields).
    price_table_json: str | None = Field(None, validation_alias="ATENDE_BILLING_PRICE_TABLE")


class BillingSettings(BillingTunables, MainTableSettings, EventBusSettings):
    """Calls, payments, sweeper and credits: the main table (ledger, balances, applied
    markers live there) and the bus."""


class BillingJobsSettings(BillingSettings, ArtifactsBucketSettings):
    """Statements and reconciliation also write to the artifacts bucket."""


class BillingApiSettings(BillingSettings, ArtifactsBucketSettings):
    """The admin API reads statements from the artifacts bucket."""
