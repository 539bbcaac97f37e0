"""Sync test harness: moto, a tenant connected to the fake Bling, and builders."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest
from aws_lambda_powertools.utilities import parameters
from moto import mock_aws

from atende_local.bootstrap import LocalResources, create_resources
from atende_local.runtime import LambdaContext
from atende_shared.aws import reset_clients
from atende_shared.dal.tenants import tenant_store
from atende_shared.events import DomainEvent
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import CatalogSource, Integrations, Tenant
from atende_shared.settings import reset_settings_cache
from atende_shared.tenant_secrets import IntegrationSecret, write_secret
from functions.sync.dal.aws_io import S3BlobStore, SqsJobQueue
from functions.sync.dal.dynamo import (
    DynamoCatalogRepository,
    DynamoLock,
    DynamoRunRepository,
    ingest_ledger,
)
from functions.sync.dal.ratelimit import DynamoSlidingWindowLimiter
from functions.sync.dal.secrets import SecretsManagerTokenVault
from functions.sync.handlers import deps as service
from functions.sync.logic.connectors.bling import (
    BlingApi,
    BlingCatalogConnector,
    BlingCredentials,
    BlingTokenManager,
)
from functions.sync.logic.engine import CatalogEngine, EngineConfig
from functions.sync.logic.worker import CatalogWorker
from functions.sync.models.catalog import CatalogItem
from functions.sync.models.runs import SyncMode, SyncRun, new_run_id
from tests.sync.fakes import FakeBling, VirtualClock

TENANT = "pizzaria-sol"
BLING_API = "https://api.bling.com.br/Api/v3"


class RecordingPublisher:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)


class CountingCatalog(DynamoCatalogRepository):
    """The real DAL, counting item writes (the bench and 'writes nothing' tests)."""

    def __init__(self, table_name: str) -> None:
        super().__init__(table_name)
        self.items_written = 0
        self.deletes_written = 0

    def put_items(self, tenant_id: str, items: Sequence[CatalogItem], **kw: Any) -> None:
        self.items_written += len(items)
        super().put_items(tenant_id, items, **kw)

    def soft_delete(self, tenant_id: str, item_ids: Sequence[str], **kw: Any) -> None:
        self.deletes_written += len(item_ids)
        super().soft_delete(tenant_id, item_ids, **kw)


@dataclass
class Harness:
    aws: LocalResources
    clock: VirtualClock
    bling: FakeBling
    tenant_id: str = TENANT
    events: RecordingPublisher = field(default_factory=RecordingPublisher)
    page_limit: int = 100
    config: EngineConfig = field(
        default_factory=lambda: EngineConfig(mass_delete_min=5, mass_delete_pct=20)
    )

    def __post_init__(self) -> None:
        self.main = self.aws.tables["main"]
        self.catalog = CountingCatalog(self.main)
        self.runs = DynamoRunRepository(self.main)
        self.engine = CatalogEngine(
            catalog=self.catalog,
            runs=self.runs,
            events=self.events,
            config=self.config,
            clock=self.clock.now,
        )
        self.apis: list[BlingApi] = []

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=BLING_API, transport=self.bling.transport)

    def token_manager(self) -> BlingTokenManager:
        http = self.http()
        return BlingTokenManager(
            vault=SecretsManagerTokenVault("local", self.tenant_id),
            lock=DynamoLock(self.main, self.tenant_id),
            http=http,
            token_url=f"{BLING_API}/oauth/token",
            clock=self.clock.now,
            sleep=self.clock.sleep,
        )

    def api(self) -> BlingApi:
        """A new API client: what one more concurrent function would build."""
        api = BlingApi(
            http=self.http(),
            tokens=self.token_manager(),
            limiter=DynamoSlidingWindowLimiter(
                self.main, self.tenant_id, "bling", clock=self.clock.time, sleep=self.clock.sleep
            ),
            sleep=self.clock.sleep,
        )
        self.apis.append(api)
        return api

    def connector(self) -> BlingCatalogConnector:
        return BlingCatalogConnector(self.api(), page_limit=self.page_limit)

    def worker(self, **kw: Any) -> CatalogWorker:
        connector = self.connector()
        return CatalogWorker(
            engine=self.engine,
            connector_for=lambda tenant_id, source: connector,
            reader_for=lambda tenant_id, source: connector,
            blobs=S3BlobStore(self.aws.buckets["artifacts"]),
            ledger=ingest_ledger(self.main),
            jobs=SqsJobQueue(self.aws.queues["catalog"].url),
            **kw,
        )

    def new_run(self, mode: str = "full", *, allow_mass_deletion: bool = False) -> str:
        run = SyncRun(
            tenant_id=self.tenant_id,
            run_id=new_run_id(mode, self.clock.now()),
            source="bling",
            mode=SyncMode(mode),
            allow_mass_deletion=allow_mass_deletion,
        )
        assert self.runs.create_run(run)
        self.clock.advance(1)  # run ids are per second: keep them distinct
        return run.run_id

    def sync(self, mode: str = "full", **kw: Any) -> SyncRun:
        run_id = self.new_run(mode, **kw)
        self.engine.run_pull(self.tenant_id, run_id, self.connector())
        run = self.runs.get_run(self.tenant_id, run_id)
        assert run is not None
        return run

    def menu(self) -> Menu:
        return tenant_store(self.main).get_menu(self.tenant_id)

    def stored_credentials(self) -> BlingCredentials:
        creds = SecretsManagerTokenVault("local", self.tenant_id).load()
        assert creds is not None
        return creds


def lambda_context(name: str = "sync-test", timeout: int = 60) -> LambdaContext:
    return LambdaContext(function_name=name, memory_limit_in_mb=512, timeout_seconds=timeout)


def connect_bling(bling: FakeBling, tenant_id: str = TENANT, *, contact: str = "777") -> None:
    access, refresh, expires = bling.authorize()
    write_secret(
        "local",
        tenant_id,
        "bling",
        IntegrationSecret(
            current=BlingCredentials(
                client_id=bling.client_id,
                client_secret=bling.client_secret,
                access_token=access,
                refresh_token=refresh,
                expires_at=datetime.fromtimestamp(expires).astimezone(),
                order_contact_id=contact,
            ).to_fields()
        ),
    )


@pytest.fixture(scope="module")
def sync_aws() -> Iterator[LocalResources]:
    """One moto account per test module (building it costs ~1 s); tests are isolated by
    tenant id, since every key and secret name starts with the tenant."""
    with mock_aws():
        reset_clients()
        reset_settings_cache()
        resources = create_resources(prefix="sync")
        env = {**resources.env, "ATENDE_STAGE": "local"}
        saved = {k: os.environ.get(k) for k in env}
        os.environ.update(env)
        reset_settings_cache()
        try:
            yield resources
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
    reset_clients()
    reset_settings_cache()


_tenants = itertools.count(1)


def new_tenant(resources: LocalResources, source: CatalogSource = CatalogSource.BLING) -> str:
    tenant_id = f"t{next(_tenants)}-sol"
    tenant_store(resources.tables["main"]).create_tenant(
        Tenant(
            tenant_id=tenant_id,
            name="Pizzaria Sol",
            integrations=Integrations(catalog_source=source),
        )
    )
    return tenant_id


@pytest.fixture
def harness(sync_aws: LocalResources) -> Iterator[Harness]:
    """Given a fresh tenant whose catalog source is Bling, connected to the fake Bling."""
    parameters.clear_caches()
    reset_settings_cache()
    clock = VirtualClock()
    bling = FakeBling(clock)
    tenant_id = new_tenant(sync_aws)
    connect_bling(bling, tenant_id)
    yield Harness(aws=sync_aws, clock=clock, bling=bling, tenant_id=tenant_id)
    service.use_http_transport(None)
