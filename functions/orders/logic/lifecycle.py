"""Status changes: legal transitions, optimistic concurrency, one event per change."""

from __future__ import annotations

from dataclasses import dataclass

from atende_shared.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from atende_shared.events import OrderStatus, OrderStatusChanged
from atende_shared.observability import logger
from functions.orders.dal.protocol import StaleVersion
from functions.orders.logic.ports import OrdersDeps
from functions.orders.models.order import Order, StatusChange

#: Attempts of read-check-write when the caller named no version (someone else's change
#: in between is re-validated, never overwritten).
MAX_ATTEMPTS = 5
REASON_REQUIRED: frozenset[OrderStatus] = frozenset({"refused", "cancelled"})


@dataclass(frozen=True)
class ChangeResult:
    order: Order
    changed: bool


def get_order(deps: OrdersDeps, tenant_id: str, order_id: str) -> Order:
    order = deps.store.get_order(tenant_id, order_id)
    if order is None:
        raise NotFound(f"order {order_id!r} not found")
    return order


def get_order_by_number(deps: OrdersDeps, tenant_id: str, number: int) -> Order:
    order_id = deps.store.order_id_by_number(tenant_id, number)
    if order_id is None:
        raise NotFound(f"order number {number} not found")
    return get_order(deps, tenant_id, order_id)


def status_event(order: Order, *, actor: str, correlation_id: str) -> OrderStatusChanged:
    """The event of the order's current version (a stable id: re-publishing is harmless)."""
    last = order.history[-1] if order.history else None
    return OrderStatusChanged(
        event_id=f"{order.order_id}:v{order.version}"[:128],
        tenant_id=order.tenant_id,
        correlation_id=correlation_id or order.correlation_id,
        occurred_at=last.at if last else order.updated_at,
        order_id=order.order_id,
        order_number=order.order_number,
        channel=order.channel,
        previous_status=last.from_status if last else None,
        status=order.status,
        version=order.version,
        reason=order.status_reason,
        actor=last.actor if last else actor,
        fulfilment=order.fulfilment,
        customer_phone=order.customer.phone,
    )


def change_status(
    deps: OrdersDeps,
    tenant_id: str,
    order_id: str,
    target: OrderStatus,
    *,
    actor: str,
    reason: str | None = None,
    if_match: int | None = None,
    correlation_id: str = "-",
) -> ChangeResult:
    """Move the order to ``target``.

    Repeating the transition the order already made is a no-op (its event is re-published,
    which subscribers ignore, so a retry after a failed publish still tells everyone).
    ``if_match`` is the version the caller saw: a newer one answers 412. An illegal move
    answers 409 naming the allowed ones.
    """
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise ValidationFailed(f"a reason is required to set an order {target}")
    order = get_order(deps, tenant_id, order_id)
    for _ in range(MAX_ATTEMPTS):
        if order.status == target:
            deps.publisher.publish(
                [status_event(order, actor=actor, correlation_id=correlation_id)]
            )
            return ChangeResult(order=order, changed=False)
        if if_match is not None and if_match != order.version:
            raise PreconditionFailed(
                f"order is at version {order.version}, not {if_match}; re-read and retry",
                details={"version": order.version, "status": order.status},
            )
        allowed = order.allowed_next
        if target not in allowed:
            raise Conflict(
                f"order #{order.order_number} is {order.status}: it can move to "
                f"{', '.join(allowed) or 'nothing (final)'}, not {target}",
                details={"status": order.status, "allowed": list(allowed)},
            )
        change = StatusChange(
            from_status=order.status,
            to_status=target,
            version=order.version + 1,
            at=deps.clock(),
            actor=actor[:200],
            reason=reason,
        )
        try:
            updated = deps.store.change_status(
                order, change, expected_version=order.version, reason=reason
            )
        except StaleVersion:
            order = get_order(deps, tenant_id, order_id)
            if if_match is not None and order.status != target:
                raise PreconditionFailed(
                    f"order changed meanwhile (now version {order.version}); re-read and retry",
                    details={"version": order.version, "status": order.status},
                ) from None
            continue
        deps.publisher.publish([status_event(updated, actor=actor, correlation_id=correlation_id)])
        logger.info(
            "order status changed",
            extra={
                "order_id": order_id,
                "order_number": updated.order_number,
                "from": change.from_status,
                "to": target,
                "version": updated.version,
            },
        )
        return ChangeResult(order=updated, changed=True)
    raise PreconditionFailed("order kept changing; re-read and retry")
