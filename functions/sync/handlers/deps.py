"""Composition root of the sync domain: builds logic objects on the AWS implementations.

Handlers call these builders; tests of handlers swap the HTTP transport (fake Bling or
Plugg.to) with :func:`use_http_transport`. Nothing here runs at import time.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache
from http.cookiejar import CookieJar, DefaultCookiePolicy
from typing import Any

import httpx

from atende_shared.dal.tenants import tenant_store
from atende_shared.errors import ValidationFailed
from atende_shared.messaging import EventBridgePublisher
from atende_shared.models.tenant import CatalogSource
from functions.sync.dal.aws_io import S3BlobStore, SqsJobQueue
from functions.sync.dal.dynamo import (
    DynamoLock,
    catalog_repository,
    ingest_ledger,
    order_sync_repository,
    run_repository,
)
from functions.sync.dal.ratelimit import DynamoSlidingWindowLimiter
from functions.sync.dal.secrets import SecretsManagerTokenVault, read_integration_fields
from functions.sync.logic.connectors.base import PullConnector
from functions.sync.logic.connectors.bling import (
    BlingApi,
    BlingCatalogConnector,
    BlingOrderTarget,
    BlingTokenManager,
)
from functions.sync.logic.connectors.mongodb import (
    MongoCatalogConnector,
    MongoFields,
    MongoOrderTarget,
)
from functions.sync.logic.connectors.pluggto import PluggtoApi, PluggtoConnector
from functions.sync.logic.engine import CatalogEngine, EngineConfig
from functions.sync.logic.orders import OrderWriter
from functions.sync.logic.worker import CatalogWorker, WebhookReader
from functions.sync.settings import CatalogWorkerSettings, OrdersSettings, SyncTuning

_transport: httpx.BaseTransport | None = None
#: One pooled client per (base URL, timeout) and process, reused across SQS messages.
_clients: dict[tuple[str, float], httpx.Client] = {}


def use_http_transport(transport: httpx.BaseTransport | None) -> None:
    """Route provider HTTP through ``transport`` (tests, the local platform's fakes)."""
    global _transport
    _transport = transport
    _clients.clear()  # clients built on the previous transport must not be reused


def _http(base_url: str, timeout: float) -> httpx.Client:
    key = (base_url, timeout)
    http = _clients.get(key)
    if http is None:
        kwargs: dict[str, Any] = {
            "base_url": base_url,
            "timeout": timeout,
            # Shared across tenants: keep no cookies, as a client per message never did.
            "cookies": CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
        }
        if _transport is not None:
            kwargs["transport"] = _transport
        http = _clients[key] = httpx.Client(**kwargs)
    return http


def engine_config(settings: SyncTuning) -> EngineConfig:
    return EngineConfig(
        mass_delete_min=settings.mass_delete_min,
        mass_delete_pct=settings.mass_delete_pct,
        retention=timedelta(days=settings.soft_delete_retention_days),
    )


def catalog_source(main_table: str, tenant_id: str) -> str:
    return tenant_store(main_table).get_tenant(tenant_id).integrations.catalog_source.value


def bling_api(settings: SyncTuning, main_table: str, tenant_id: str) -> BlingApi:
    http = _http(settings.bling_api_url, settings.http_timeout_seconds)
    tokens = BlingTokenManager(
        vault=SecretsManagerTokenVault(settings.stage, tenant_id),
        lock=DynamoLock(main_table, tenant_id),
        http=http,
        token_url=settings.bling_token_url,
    )
    limiter = DynamoSlidingWindowLimiter(main_table, tenant_id, "bling", sleep=time.sleep)
    return BlingApi(http=http, tokens=tokens, limiter=limiter)


def pluggto_api(settings: SyncTuning, tenant_id: str) -> PluggtoApi:
    fields = read_integration_fields(settings.stage, tenant_id, "pluggto") or {}
    return PluggtoApi(
        http=_http(settings.pluggto_api_url, settings.http_timeout_seconds), credentials=fields
    )


@cache
def _mongo_client(uri: str) -> Any:
    from pymongo import MongoClient  # only tenants with a MongoDB hub pay for the import

    # One pooled client per connection string and process, reused across invocations.
    return MongoClient(uri, serverSelectionTimeoutMS=5_000, tz_aware=False)


def mongo_settings(settings: SyncTuning, tenant_id: str) -> dict[str, str]:
    fields = read_integration_fields(settings.stage, tenant_id, "mongodb")
    if not fields or not fields.get("uri"):
        raise ValidationFailed(f"tenant {tenant_id} has no MongoDB connection string")
    return fields


def mongo_connector(settings: SyncTuning, tenant_id: str) -> MongoCatalogConnector:
    fields = mongo_settings(settings, tenant_id)
    database = _mongo_client(fields["uri"])[fields.get("database", "catalog")]
    mapping = {k.removeprefix("field_"): v for k, v in fields.items() if k.startswith("field_")}
    return MongoCatalogConnector(
        database[fields.get("collection", "products")], fields=MongoFields.from_mapping(mapping)
    )


def mongo_orders(settings: SyncTuning, tenant_id: str) -> MongoOrderTarget:
    fields = mongo_settings(settings, tenant_id)
    database = _mongo_client(fields["uri"])[fields.get("database", "catalog")]
    return MongoOrderTarget(database[fields.get("orders_collection", "orders")])


def build_worker(
    settings: CatalogWorkerSettings, *, correlation_id: str, out_of_time: Any = None
) -> CatalogWorker:
    main = settings.main_table
    engine = CatalogEngine(
        catalog=catalog_repository(main),
        runs=run_repository(main),
        events=EventBridgePublisher(settings.event_bus_name),
        config=engine_config(settings),
        correlation_id=correlation_id,
    )

    def connector_for(tenant_id: str, source: str) -> PullConnector:
        chosen = source or catalog_source(main, tenant_id)
        if chosen == CatalogSource.BLING.value:
            return BlingCatalogConnector(bling_api(settings, main, tenant_id))
        if chosen == CatalogSource.PLUGGTO.value:
            return PluggtoConnector(pluggto_api(settings, tenant_id))
        if chosen == CatalogSource.MONGODB.value:
            return mongo_connector(settings, tenant_id)
        raise ValidationFailed(f"tenant {tenant_id} has no pull source (catalog source {chosen!r})")

    def reader_for(tenant_id: str, source: str) -> WebhookReader:
        connector = connector_for(tenant_id, source)
        assert isinstance(
            connector, BlingCatalogConnector | PluggtoConnector | MongoCatalogConnector
        )
        return connector

    return CatalogWorker(
        engine=engine,
        connector_for=connector_for,
        reader_for=reader_for,
        blobs=S3BlobStore(settings.artifacts_bucket),
        ledger=ingest_ledger(main),
        jobs=SqsJobQueue(settings.catalog_queue_url, correlation_id),
        out_of_time=out_of_time or (lambda: False),
    )


def build_order_writer(settings: OrdersSettings) -> OrderWriter:
    main = settings.main_table

    def target_for(tenant_id: str) -> BlingOrderTarget | MongoOrderTarget | None:
        source = catalog_source(main, tenant_id)
        if source == CatalogSource.MONGODB.value:
            return mongo_orders(settings, tenant_id)
        if source != CatalogSource.BLING.value:
            return None
        api = bling_api(settings, main, tenant_id)
        contact = (read_integration_fields(settings.stage, tenant_id, "bling") or {}).get(
            "order_contact_id"
        )
        return BlingOrderTarget(api, contact_id=contact)

    return OrderWriter(
        records=order_sync_repository(main),
        catalog=catalog_repository(main),
        lock_for=lambda tenant_id: DynamoLock(main, tenant_id),
        target_for=target_for,
    )
