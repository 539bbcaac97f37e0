"""From ``OrderPlaced`` to one order record per order id, and call outcomes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import CallUsageReported, OrderPlaced, parse_event
from atende_shared.observability import logger
from functions.orders.dal.protocol import CallInfo
from functions.orders.logic.lifecycle import status_event
from functions.orders.logic.ports import OrdersDeps
from functions.orders.models.order import Order

#: A channel-allocated number that collides (never expected) gets a fresh one this often.
MAX_NUMBER_ATTEMPTS = 3


def _announce(deps: OrdersDeps, order: Order) -> Order:
    """Publish the order's arrival once: until ``announced`` is stored, a redelivery
    publishes again (the event id is stable, so subscribers see one)."""
    if order.announced:
        return order
    first = order if order.version == 1 else None
    if first is not None:
        deps.publisher.publish([status_event(first, actor="system", correlation_id="-")])
    deps.store.mark_announced(order.tenant_id, order.order_id)
    return order.model_copy(update={"announced": True})


def place_order(deps: OrdersDeps, event: OrderPlaced) -> Order:
    """Create the order of ``event`` exactly once, whatever the deliveries' count and order."""
    if event.order_number is None:
        existing = deps.store.get_order(event.tenant_id, event.order_id)
        if existing is not None:
            return _announce(deps, existing)
    tenant = deps.tenant(event.tenant_id)
    number = event.order_number or deps.numbers.next_number(event.tenant_id)
    order = Order.from_event(event, number=number)
    remind_at = order.placed_at + timedelta(minutes=tenant.orders.acceptance_window_minutes)
    for _ in range(MAX_NUMBER_ATTEMPTS):
        outcome = deps.store.create_order(order, remind_at=remind_at)
        if outcome == "created":
            logger.info(
                "order recorded",
                extra={
                    "order_id": order.order_id,
                    "order_number": order.order_number,
                    "total_cents": order.total_cents,
                    "channel": order.channel,
                },
            )
            return _announce(deps, order)
        if outcome == "exists":
            stored = deps.store.get_order(event.tenant_id, event.order_id)
            if stored is None:  # deleted in between: nothing sane to do but retry later
                raise DependencyUnavailable("order vanished while being recorded")
            return _announce(deps, stored)
        logger.warning(
            "order number already taken; allocating another",
            extra={"order_id": order.order_id, "order_number": order.order_number},
        )
        order = order.model_copy(update={"order_number": deps.numbers.next_number(event.tenant_id)})
    raise DependencyUnavailable("could not allocate a free order number")


def record_call_outcome(deps: OrdersDeps, event: CallUsageReported) -> None:
    deps.store.put_call_info(
        event.tenant_id,
        CallInfo(call_id=event.call_id, outcome=event.outcome, summary=event.summary),
    )


def handle_kitchen_message(deps: OrdersDeps, body: dict[str, Any]) -> None:
    """One message of the kitchen queue: an EventBridge envelope of a subscribed event."""
    event = parse_event(str(body.get("detail-type", "")), body.get("detail") or {})
    if isinstance(event, OrderPlaced):
        place_order(deps, event)
    elif isinstance(event, CallUsageReported):
        record_call_outcome(deps, event)
    else:
        logger.warning("kitchen queue: event ignored", extra={"detail_type": event.detail_type})
