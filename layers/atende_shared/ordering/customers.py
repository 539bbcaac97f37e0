"""Returning customers: recalled at the start of a conversation, remembered after an order.

The channels call :func:`recall` with the customer's phone before greeting and
:func:`remember` after ``confirm_order`` succeeded. Both are best effort: a failing store
never costs an order (logged, the conversation goes on as with a new customer).
"""

from __future__ import annotations

from atende_shared.dal.customers import CustomerStore
from atende_shared.models.common import utc_now
from atende_shared.models.customer import Customer, RememberedLine
from atende_shared.observability import logger
from atende_shared.ordering.state import CartLine, OrderState


def recall(state: OrderState, store: CustomerStore | None) -> Customer | None:
    """Fill the state's name and last order from the store (``None``: a new customer)."""
    if store is None or not state.caller_number:
        return None
    try:
        customer = store.get(state.tenant.tenant_id, state.caller_number)
    except Exception as exc:
        logger.warning("customer lookup failed", extra={"error": str(exc)})
        return None
    if customer is None:
        return None
    state.customer_name = customer.name
    state.last_order = [
        CartLine(
            ln.item_id,
            ln.option_id,
            ln.quantity,
            tuple(ln.flavours),
            tuple(ln.modifiers),
            ln.notes,
        )
        for ln in customer.last_order
    ] or None
    if state.last_order:
        state.awaiting = "usual"  # the greeting offers it: "sim" takes it
    return customer


def remember(state: OrderState, store: CustomerStore | None) -> None:
    """Keep the name and this order as the customer's last (after a confirmed order)."""
    if store is None or not state.caller_number or state.order is None:
        return
    try:
        previous = store.get(state.tenant.tenant_id, state.caller_number)
        store.put(
            Customer(
                tenant_id=state.tenant.tenant_id,
                phone=state.caller_number,
                name=state.customer_name or (previous.name if previous else None),
                last_order=[
                    RememberedLine(
                        item_id=ln.item_id,
                        option_id=ln.option_id,
                        quantity=ln.quantity,
                        flavours=list(ln.flavours),
                        modifiers=list(ln.modifiers),
                        notes=ln.notes,
                    )
                    for ln in state.cart
                ],
                orders=(previous.orders if previous else 0) + 1,
                updated_at=utc_now(),
            )
        )
    except Exception as exc:
        logger.warning("customer not remembered", extra={"error": str(exc)})
