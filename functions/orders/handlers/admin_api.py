"""Orders admin API (API Gateway REST proxy): orders and their status, call records,
order-webhook endpoints, and the messages sent about orders (with their dead letters)."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.dal import keys
from atende_shared.errors import NotFound, ValidationFailed
from atende_shared.events import OrderChannel, OrderStatus
from atende_shared.http import (
    build_resolver,
    documented_responses,
    request_actor,
    request_correlation_id,
    tenant_user,
)
from atende_shared.models.common import TENANT_ID_PATTERN
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
from functions.orders.dal.protocol import OrderFilter
from functions.orders.handlers.deps import api_deps
from functions.orders.logic import calls, endpoints, lifecycle, notify
from functions.orders.models.api import (
    DeliveryView,
    EndpointCreated,
    EndpointDeleted,
    EndpointRequest,
    EndpointView,
    OrderView,
    StatusChangeRequest,
)
from functions.orders.models.calls import CallRecord
from functions.orders.models.notifications import parse_delivery_id
from functions.orders.settings import OrdersApiSettings

app = build_resolver(title="Atende orders API")

TenantPath = Annotated[str, Path(pattern=TENANT_ID_PATTERN, max_length=63)]
IdPath = Annotated[str, Path(min_length=1, max_length=200)]
_ORDERS = ["orders"]
_CALLS = ["call records"]
_HOOKS = ["order notifications"]
_IF_MATCH = re.compile(r'^(?:W/)?"?(\d{1,12})"?$')


def _correlation_id() -> str:
    return request_correlation_id(app) or "orders-api"


def _if_match(value: str | None) -> int | None:
    if value is None or value.strip() in {"", "*"}:
        return None
    match = _IF_MATCH.fullmatch(value.strip())
    if not match:
        raise ValidationFailed('If-Match must be the order version, e.g. If-Match: "3"')
    return int(match.group(1))


def _after(cursor: str | None, scope: CursorScope) -> dict[str, Any] | None:
    return open_cursor(cursor, scope, require={keys.PK: keys.tenant_pk(str(scope.tenant_id))})


def _aware(*values: datetime | None) -> None:
    for value in values:
        if value is not None and value.tzinfo is None:
            raise ValidationFailed("from/to must carry a timezone (e.g. 2026-11-01T00:00:00Z)")


@app.get(
    "/v1/tenants/<tenant_id>/orders",
    summary="Orders, newest first",
    tags=_ORDERS,
    responses=documented_responses(200, "A page of orders", 400, 404),
)
def list_orders(
    tenant_id: TenantPath,
    status: Annotated[OrderStatus | None, Query()] = None,
    channel: Annotated[OrderChannel | None, Query()] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="placed at or after")] = None,
    to: Annotated[datetime | None, Query(description="placed before")] = None,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> Page[OrderView]:
    _aware(from_, to)
    deps = api_deps()
    deps.tenant(tenant_id)
    # The filters are part of the list: a cursor issued under other filters is refused.
    period = f"{from_.isoformat() if from_ else ''}:{to.isoformat() if to else ''}"
    scope = CursorScope(f"orders:{status or ''}:{channel or ''}:{period}", tenant_id)
    page = deps.store.list_orders(
        tenant_id,
        OrderFilter(status=status, channel=channel, start=from_, end=to),
        limit=limit,
        after=_after(cursor, scope),
    )
    return page_of([OrderView.of(o) for o in page.items], page.position, scope)


@app.get(
    "/v1/tenants/<tenant_id>/orders/by-number/<number>",
    summary="One order by the kitchen's number",
    tags=_ORDERS,
    responses=documented_responses(200, "The order and what was sent about it", 404),
)
def get_order_by_number(
    tenant_id: TenantPath, number: Annotated[int, Path(ge=1, le=10**12)]
) -> OrderView:
    deps = api_deps()
    order = lifecycle.get_order_by_number(deps, tenant_id, number)
    return OrderView.of(order, deps.store.deliveries_for_order(tenant_id, order.order_id))


@app.get(
    "/v1/tenants/<tenant_id>/orders/<order_id>",
    summary="One order",
    tags=_ORDERS,
    responses=documented_responses(200, "The order and what was sent about it", 404),
)
def get_order(tenant_id: TenantPath, order_id: IdPath) -> OrderView:
    deps = api_deps()
    order = lifecycle.get_order(deps, tenant_id, order_id)
    return OrderView.of(order, deps.store.deliveries_for_order(tenant_id, order_id))


@app.post(
    "/v1/tenants/<tenant_id>/orders/<order_id>/status",
    summary="Change an order's status",
    description=(
        'Send `If-Match: "<version>"` to change only the version you saw (412 otherwise). '
        "Repeating the change the order already made answers 200 and changes nothing; an "
        "illegal move answers 409 naming the allowed ones (`error.details.allowed`)."
    ),
    tags=_ORDERS,
    responses=documented_responses(200, "The order after the change", 400, 404, 409, 412),
)
def change_order_status(
    tenant_id: TenantPath,
    order_id: IdPath,
    body: Annotated[StatusChangeRequest, Body()],
    if_match: Annotated[
        str | None,
        Header(alias="If-Match", description='the version you saw, e.g. "3" (optional)'),
    ] = None,
) -> OrderView:
    result = lifecycle.change_status(
        api_deps(),
        tenant_id,
        order_id,
        body.status,
        actor=request_actor(app),
        reason=body.reason,
        if_match=_if_match(if_match),
        correlation_id=_correlation_id(),
    )
    return OrderView.of(result.order)


@app.get(
    "/v1/tenants/<tenant_id>/call-records",
    summary="Calls with their outcome and order",
    tags=_CALLS,
    responses=documented_responses(200, "A page of call records", 400, 404),
)
def list_call_records(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[CallRecord]:
    scope = CursorScope("call-records", tenant_id)
    page = calls.list_call_records(api_deps(), tenant_id, limit=limit, after=_after(cursor, scope))
    return page_of([_for_viewer(c) for c in page.items], page.position, scope)


@app.get(
    "/v1/tenants/<tenant_id>/call-records/<call_id>",
    summary="One call: timing, cost, outcome, order, transcript",
    tags=_CALLS,
    responses=documented_responses(200, "The call record", 404),
)
def get_call_record(
    tenant_id: TenantPath,
    call_id: IdPath,
    transcript: Annotated[bool, Query(description="include the transcript itself")] = True,
) -> CallRecord:
    record = calls.get_call_record(api_deps(), tenant_id, call_id, with_transcript=transcript)
    return _for_viewer(record)


def _for_viewer(record: CallRecord) -> CallRecord:
    """Restaurant users see what they were charged, not the platform's provider cost."""
    if tenant_user(app.current_event.raw_event) is None:
        return record
    return record.model_copy(update={"provider_cost_cents": None})


@app.post(
    "/v1/tenants/<tenant_id>/order-webhooks",
    status_code=201,
    summary="Register an order-webhook endpoint",
    description=(
        "Events are POSTed signed with Standard Webhooks (`webhook-id`, `webhook-timestamp`, "
        "`webhook-signature`) using the secret returned here once. https only (http and "
        "loopback only on the local platform); private and link-local hosts answer 422."
    ),
    tags=_HOOKS,
    responses=documented_responses(201, "The endpoint and its signing secret", 404, 409),
)
def create_endpoint(
    tenant_id: TenantPath, body: Annotated[EndpointRequest, Body()]
) -> EndpointCreated:
    endpoint = endpoints.register_endpoint(
        api_deps(), tenant_id, url=body.url, events=body.events, description=body.description
    )
    return EndpointCreated(**EndpointView.of(endpoint).model_dump(), secret=endpoint.secret)


@app.get(
    "/v1/tenants/<tenant_id>/order-webhooks",
    summary="Order-webhook endpoints",
    tags=_HOOKS,
    responses=documented_responses(200, "The endpoints (secrets are never shown again)", 404),
)
def list_endpoints(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[EndpointView]:
    deps = api_deps()
    deps.tenant(tenant_id)
    views = [EndpointView.of(e) for e in deps.store.list_endpoints(tenant_id)]
    return page_slice(
        views, limit=limit, cursor=cursor, scope=CursorScope("order-webhooks", tenant_id)
    )


@app.delete(
    "/v1/tenants/<tenant_id>/order-webhooks/<endpoint_id>",
    summary="Remove an order-webhook endpoint",
    tags=_HOOKS,
    responses=documented_responses(200, "Removed", 404),
)
def delete_endpoint(tenant_id: TenantPath, endpoint_id: IdPath) -> EndpointDeleted:
    endpoints.delete_endpoint(api_deps(), tenant_id, endpoint_id)
    return EndpointDeleted(deleted=endpoint_id)


@app.get(
    "/v1/tenants/<tenant_id>/notifications",
    summary="Messages sent about orders (failed=true: the dead letters)",
    tags=_HOOKS,
    responses=documented_responses(200, "A page of deliveries with their attempts", 400, 404),
)
def list_deliveries(
    tenant_id: TenantPath,
    failed: Annotated[bool, Query(description="only dead-lettered deliveries")] = False,
    limit: PageLimit = DEFAULT_LIMIT,
    cursor: PageCursor = None,
) -> Page[DeliveryView]:
    deps = api_deps()
    deps.tenant(tenant_id)
    scope = CursorScope(f"notifications:{'failed' if failed else 'all'}", tenant_id)
    page = deps.store.list_deliveries(
        tenant_id, failed_only=failed, limit=limit, after=_after(cursor, scope)
    )
    return page_of([DeliveryView.full(d) for d in page.items], page.position, scope)


@app.get(
    "/v1/tenants/<tenant_id>/notifications/<delivery_id>",
    summary="One delivery and its attempts",
    tags=_HOOKS,
    responses=documented_responses(200, "The delivery", 404),
)
def get_delivery(tenant_id: TenantPath, delivery_id: IdPath) -> DeliveryView:
    parsed = parse_delivery_id(delivery_id)
    delivery = api_deps().store.get_delivery(tenant_id, *parsed) if parsed else None
    if delivery is None:
        raise NotFound(f"delivery {delivery_id!r} not found")
    return DeliveryView.full(delivery)


@app.post(
    "/v1/tenants/<tenant_id>/notifications/<delivery_id>/replay",
    summary="Replay a dead-lettered delivery",
    tags=_HOOKS,
    responses=documented_responses(200, "Queued again", 404, 409),
)
def replay_delivery(tenant_id: TenantPath, delivery_id: IdPath) -> DeliveryView:
    return DeliveryView.full(notify.replay(api_deps(), tenant_id, delivery_id))


@instrumented(OrdersApiSettings)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
