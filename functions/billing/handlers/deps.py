"""Billing's composition root: the dependencies every billing handler uses, built from
the validated environment once per process (DynamoDB store, tenant store, EventBridge
publisher, price table). Logic receives them; it never builds them."""

from __future__ import annotations

from decimal import Decimal
from functools import cache

from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import EventBridgePublisher
from atende_shared.settings import load_settings
from atende_shared.tenant_secrets import SecretsManagerReader
from functions.billing.dal.asaas import AsaasPaymentSource
from functions.billing.dal.dynamo import billing_store
from functions.billing.logic.credits import CreditResult, credit
from functions.billing.logic.engine import BillingDeps
from functions.billing.logic.verification import NoPaymentSource, PaymentSource
from functions.billing.models.pricing import ProviderPriceTable
from functions.billing.settings import BillingSettings


def price_table(settings: BillingSettings) -> ProviderPriceTable:
    """The default USD list prices, or the JSON table configured, at the configured rate."""
    if settings.price_table_json:
        table = ProviderPriceTable.model_validate_json(settings.price_table_json)
    else:
        table = ProviderPriceTable()
    return table.model_copy(update={"usd_brl": Decimal(settings.usd_brl_rate)})


def payment_source(settings: BillingSettings) -> PaymentSource:
    """Asaas' own API with each tenant's key (``ATENDE_ASAAS_API_URL=off``: none)."""
    if settings.asaas_api_url.strip().lower() in ("", "off"):
        return NoPaymentSource()
    return AsaasPaymentSource(SecretsManagerReader(settings.stage), base_url=settings.asaas_api_url)


@cache
def default_deps() -> BillingDeps:
    """DynamoDB store, tenant store and EventBridge publisher named by the environment."""
    settings = load_settings(BillingSettings)
    return BillingDeps(
        store=billing_store(settings.main_table),
        tenants=tenant_store(settings.main_table),
        publisher=EventBridgePublisher(settings.event_bus_name),
        prices=price_table(settings),
        end_grace_seconds=settings.end_grace_seconds,
        max_commit_attempts=settings.max_commit_attempts,
        tenant_cache_seconds=settings.tenant_cache_seconds,
        payment_source=payment_source(settings),
    )


def reset_default_deps() -> None:
    """Forget the cached dependencies (tests and the local platform change the env)."""
    default_deps.cache_clear()


def grant_credit(
    tenant_id: str,
    amount_cents: int,
    reference: str,
    *,
    reason: str = "opening balance",
    actor: str = "local-seed",
) -> CreditResult:
    """Credit ``tenant_id`` once per ``reference`` with the environment's dependencies
    (the local platform's seed calls this)."""
    return credit(tenant_id, amount_cents, reason, actor, reference, deps=default_deps())
