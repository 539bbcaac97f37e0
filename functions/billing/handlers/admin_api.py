"""Billing admin API (API Gateway REST proxy): balance, ledger, calls, credits, statements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.dal import keys
from atende_shared.errors import NotFound, ValidationFailed
from atende_shared.http import (
    TenantPath,
    build_resolver,
    documented_responses,
    request_actor,
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
    page_slice,
)
from atende_shared.settings import load_settings
from functions.billing.dal.artifacts import statement_store
from functions.billing.handlers.deps import default_deps
from functions.billing.logic import credits
from functions.billing.models.api import (
    BalanceView,
    CallView,
    CreditRequest,
    CreditResult,
    StatementDownload,
    StatementSummary,
)
from functions.billing.models.ledger import LedgerEntry
from functions.billing.settings import BillingApiSettings

app = build_resolver(title="Atende billing API")

_TAGS = ["billing"]
STATEMENT_LINK_SECONDS = 300


def _known_tenant(tenant_id: str) -> None:
    default_deps().tenants.get_tenant(tenant_id)  # NotFound → 404 through the resolver


@app.get(
    "/v1/tenants/<tenant_id>/balance",
    summary="Prepaid balance",
    tags=_TAGS,
    responses=documented_responses(200, "The balance and what is reserved", 404),
)
def get_balance(tenant_id: TenantPath) -> BalanceView:
    _known_tenant(tenant_id)
    return BalanceView.of(default_deps().store.get_balance(tenant_id))


@app.get(
    "/v1/tenants/<tenant_id>/ledger",
    summary="Ledger entries",
    tags=_TAGS,
    responses=documented_responses(200, "A page of ledger entries", 404),
)
def get_ledger(
    tenant_id: TenantPath,
    from_: Annotated[datetime | None, Query(alias="from")] = None,
    to: Annotated[datetime | None, Query()] = None,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> Page[LedgerEntry]:
    _known_tenant(tenant_id)
    for value in (from_, to):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("from/to must carry a timezone (e.g. 2026-11-01T00:00:00Z)")
    # The period is part of the list: a cursor from another period is refused too.
    scope = CursorScope(
        f"ledger:{from_.isoformat() if from_ else ''}:{to.isoformat() if to else ''}", tenant_id
    )
    after = open_cursor(cursor, scope, require={keys.PK: keys.tenant_pk(tenant_id)})
    page = default_deps().store.list_ledger(
        tenant_id, start=from_, end=to, limit=limit, after=after
    )
    return page_of(page.items, page.position, scope)


@app.get(
    "/v1/tenants/<tenant_id>/calls",
    summary="Rated calls with cost and margin",
    tags=_TAGS,
    responses=documented_responses(200, "A page of calls", 404),
)
def get_calls(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[CallView]:
    _known_tenant(tenant_id)
    scope = CursorScope("calls", tenant_id)
    after = open_cursor(cursor, scope, require={keys.PK: keys.tenant_pk(tenant_id)})
    page = default_deps().store.list_calls(tenant_id, limit=limit, after=after)
    return page_of([CallView.of(c) for c in page.items], page.position, scope)


@app.post(
    "/v1/tenants/<tenant_id>/credits",
    status_code=201,
    summary="Manual credit or adjustment",
    tags=_TAGS,
    responses=documented_responses(
        201, "The posted credit (or the earlier one, same key)", 400, 404
    ),
)
def post_credit(tenant_id: TenantPath, body: Annotated[CreditRequest, Body()]) -> CreditResult:
    result = credits.credit(
        tenant_id,
        body.amount_cents,
        body.reason,
        request_actor(app),
        body.idempotency_key,
        deps=default_deps(),
        correlation_id=request_correlation_id(app),
    )
    return CreditResult(
        applied=result.applied, balance=BalanceView.of(result.balance), entry=result.entry
    )


@app.get(
    "/v1/tenants/<tenant_id>/statements",
    summary="Monthly statements",
    tags=_TAGS,
    responses=documented_responses(200, "The statements written so far", 404),
)
def get_statements(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[StatementSummary]:
    _known_tenant(tenant_id)
    bucket = load_settings(BillingApiSettings).artifacts_bucket
    summaries = statement_store(bucket).list_statements(tenant_id)
    return page_slice(
        [StatementSummary.model_validate(s) for s in summaries],
        limit=limit,
        cursor=cursor,
        scope=CursorScope("statements", tenant_id),
    )


@app.get(
    "/v1/tenants/<tenant_id>/statements/<period>",
    summary="Download links for one monthly statement",
    tags=_TAGS,
    responses=documented_responses(200, "Presigned URLs of the CSV and JSON (5 minutes)", 404),
)
def get_statement_download(
    tenant_id: TenantPath,
    period: Annotated[str, Path(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")],
) -> StatementDownload:
    _known_tenant(tenant_id)
    bucket = load_settings(BillingApiSettings).artifacts_bucket
    links = statement_store(bucket).download_links(
        tenant_id, period, seconds=STATEMENT_LINK_SECONDS
    )
    if links is None:
        raise NotFound(f"no statement for {period}")
    return StatementDownload(
        period=period,
        csv_url=links["csv"],
        json_url=links["json"],
        expires_in_seconds=STATEMENT_LINK_SECONDS,
    )


@instrumented(BillingApiSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
