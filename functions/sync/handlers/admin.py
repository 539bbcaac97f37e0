"""Sync admin API: start and inspect sync runs, see an order's write-back status."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from atende_shared.dal import keys
from atende_shared.dal.tenants import tenant_store
from atende_shared.http import (
    TenantPath,
    build_resolver,
    documented_responses,
    request_correlation_id,
)
from atende_shared.observability import instrumented
from atende_shared.pagination import (
    DEFAULT_LIMIT,
    CursorScope,
    Page,
    PageCursor,
    PageLimit,
    open_cursor,
    page_of,
)
from atende_shared.settings import load_settings
from functions.sync.dal.aws_io import SqsJobQueue
from functions.sync.dal.dynamo import order_sync_repository, run_repository
from functions.sync.logic import admin as logic
from functions.sync.models.api import RunView
from functions.sync.models.orders import OrderSync
from functions.sync.settings import SyncAdminSettings

app = build_resolver(title="Atende sync API")


@app.post(
    "/v1/tenants/<tenant_id>/sync-runs",
    summary="Start a catalog sync run",
    tags=["sync"],
    responses=documented_responses(202, "The run, queued", 400, 404),
)
def start_run(
    tenant_id: TenantPath, request: Annotated[logic.StartRun, Body()]
) -> tuple[RunView, int]:
    settings = load_settings(SyncAdminSettings)
    run = logic.start_run(
        tenant_id,
        request,
        tenants=tenant_store(settings.main_table),
        runs=run_repository(settings.main_table),
        jobs=SqsJobQueue(
            settings.catalog_queue_url, correlation_id=request_correlation_id(app) or "sync-admin"
        ),
    )
    return logic.run_view(run), 202


@app.get(
    "/v1/tenants/<tenant_id>/sync-runs",
    summary="Recent sync runs",
    tags=["sync"],
    responses=documented_responses(200, "The most recent runs first", 404),
)
def list_runs(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[RunView]:
    settings = load_settings(SyncAdminSettings)
    scope = CursorScope("sync-runs", tenant_id)
    after = open_cursor(cursor, scope, require={keys.PK: keys.tenant_pk(tenant_id)})
    views, last = logic.list_runs(
        tenant_id, runs=run_repository(settings.main_table), limit=limit, after=after
    )
    return page_of(views, last, scope)


@app.get(
    "/v1/tenants/<tenant_id>/sync-runs/<run_id>",
    summary="One sync run: counts, progress, quarantine, errors",
    tags=["sync"],
    responses=documented_responses(200, "The run", 404),
)
def get_run(tenant_id: TenantPath, run_id: Annotated[str, Path(max_length=100)]) -> RunView:
    settings = load_settings(SyncAdminSettings)
    return logic.get_run(tenant_id, run_id, runs=run_repository(settings.main_table))


@app.get(
    "/v1/tenants/<tenant_id>/orders/<order_id>/sync",
    summary="An order's write-back status in the tenant's ERP",
    tags=["sync"],
    responses=documented_responses(200, "The order's sync status and external id", 404),
)
def get_order_sync(
    tenant_id: TenantPath, order_id: Annotated[str, Path(max_length=128)]
) -> OrderSync:
    settings = load_settings(SyncAdminSettings)
    return logic.order_sync(tenant_id, order_id, orders=order_sync_repository(settings.main_table))


@instrumented(SyncAdminSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
