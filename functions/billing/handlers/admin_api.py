"""Billing admin API (API Gateway REST proxy): balance, ledger, calls, credits, statements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.errors import ValidationFailed
from atende_shared.http import build_resolver, documented_responses
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.observability import instrumented
from atende_shared.settings import load_settings
from functions.billing.dal.artifacts import statement_store
from functions.billing.logic import credits
from functions.billing.logic.factory import default_deps
from functions.billing.models.api import CreditRequest
from functions.billing.models.ledger import BalanceState, LedgerEntry
from functions.billing.models.session import CallSession
from functions.billing.settings import BillingApiSettings

app = build_resolver(title="Atende billing API")

TenantPath = Annotated[str, Path(pattern=TENANT_ID_PATTERN, max_length=63)]
Limit = Annotated[int, Query(ge=1, le=500)]
Cursor = Annotated[str | None, Query(max_length=2048)]
_TAGS = ["billing"]


def _known_tenant(tenant_id: str) -> None:
    default_deps().tenants.get_tenant(tenant_id)  # NotFound → 404 through the resolver


def _actor() -> str:
    """The admin's identity: the IAM caller in AWS, the local gateway's stand-in otherwise."""
    identity = app.current_event.request_context.identity
    raw = app.current_event.raw_event.get("requestContext", {}) or {}
    authorizer = raw.get("authorizer") or {}
    for candidate in (
        identity.user_arn,
        identity.caller,
        authorizer.get("principalId") if isinstance(authorizer, dict) else None,
    ):
        if candidate:
            return str(candidate)
    return "local-admin"


def _balance_view(balance: BalanceState) -> dict[str, Any]:
    return {
        "tenant_id": balance.tenant_id,
        "balance_cents": balance.balance_cents,
        "reserved_cents": balance.reserved_cents,
        "available_cents": balance.available_cents,
        "entry_count": balance.entry_count,
        "included_seconds_used": balance.included_used,
        "suspended_for_balance": balance.suspended_for_balance,
        "updated_at": balance.updated_at.isoformat() if balance.updated_at else None,
    }


def _entry_view(entry: LedgerEntry) -> dict[str, Any]:
    return entry.model_dump(mode="json")


def _call_view(call: CallSession) -> dict[str, Any]:
    usage = call.usage
    return {
        "room_name": call.room_name,
        "call_id": call.call_id,
        "status": call.status.value,
        "caller_number": call.caller_number,
        "dialled_number": call.dialled_number,
        "started_at": call.start_at.isoformat() if call.start_at else None,
        "ended_at": call.ended_at.isoformat() if call.ended_at else None,
        "end_reason": call.end_reason,
        "duration_seconds": call.duration_seconds,
        "billed_seconds": call.billed_seconds,
        "included_seconds": call.included_seconds,
        "amount_cents": call.amount_cents,
        "reserved_cents": call.reserved_cents,
        "underfunded": call.underfunded,
        "cost_cents": usage.cost_cents if usage else None,
        "cost_breakdown": (
            {
                "stt_cents": usage.stt_cost_cents,
                "llm_cents": usage.llm_cost_cents,
                "tts_cents": usage.tts_cost_cents,
                "models": usage.models,
            }
            if usage
            else None
        ),
        "margin_cents": call.margin_cents,
    }


@app.get(
    "/v1/tenants/<tenant_id>/balance",
    summary="Prepaid balance",
    tags=_TAGS,
    responses=documented_responses(200, "The balance and what is reserved", 404),
)
def get_balance(tenant_id: TenantPath) -> dict[str, Any]:
    _known_tenant(tenant_id)
    return _balance_view(default_deps().store.get_balance(tenant_id))


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
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    _known_tenant(tenant_id)
    for value in (from_, to):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("from/to must carry a timezone (e.g. 2026-11-01T00:00:00Z)")
    page = default_deps().store.list_ledger(
        tenant_id, start=from_, end=to, limit=limit, cursor=cursor
    )
    return {"items": [_entry_view(e) for e in page.items], "cursor": page.cursor}


@app.get(
    "/v1/tenants/<tenant_id>/calls",
    summary="Rated calls with cost and margin",
    tags=_TAGS,
    responses=documented_responses(200, "A page of calls", 404),
)
def get_calls(tenant_id: TenantPath, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    _known_tenant(tenant_id)
    page = default_deps().store.list_calls(tenant_id, limit=limit, cursor=cursor)
    return {"items": [_call_view(c) for c in page.items], "cursor": page.cursor}


@app.post(
    "/v1/tenants/<tenant_id>/credits",
    status_code=201,
    summary="Manual credit or adjustment",
    tags=_TAGS,
    responses=documented_responses(
        201, "The posted credit (or the earlier one, same key)", 400, 404
    ),
)
def post_credit(tenant_id: TenantPath, body: Annotated[CreditRequest, Body()]) -> dict[str, Any]:
    result = credits.credit(
        tenant_id,
        body.amount_cents,
        body.reason,
        _actor(),
        body.idempotency_key,
        deps=default_deps(),
        correlation_id=str(app.current_event.request_context.request_id or "admin"),
    )
    return {
        "applied": result.applied,
        "balance": _balance_view(result.balance),
        "entry": _entry_view(result.entry) if result.entry else None,
    }


@app.get(
    "/v1/tenants/<tenant_id>/statements",
    summary="Monthly statements",
    tags=_TAGS,
    responses=documented_responses(200, "The statements written so far", 404),
)
def get_statements(tenant_id: TenantPath) -> dict[str, Any]:
    _known_tenant(tenant_id)
    bucket = load_settings(BillingApiSettings).artifacts_bucket
    return {"items": statement_store(bucket).list_statements(tenant_id)}


@instrumented(BillingApiSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
