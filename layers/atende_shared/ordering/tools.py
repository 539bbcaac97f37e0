"""The tools' semantics, channel-neutral: what add, remove, change, fulfilment, read-back,
confirm, hand-off and goodbye do to one conversation's :class:`OrderState`.

Tools take menu ids and quantities only; every amount is computed from the menu the
conversation loaded. Problems the customer can fix (unknown size, sold out, no address
yet) raise :class:`Refusal` with a sentence the LLM — or the offline brain — can say; a
channel adapter turns it into its own error (the LiveKit agent raises ``ToolError``).
Results carry menu ids in ``[brackets]`` for a real LLM; the offline brain strips them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Literal

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import OrderPlaced
from atende_shared.models.menu import MenuItem, MenuOption
from atende_shared.observability import logger
from atende_shared.ordering import prompts
from atende_shared.ordering.pricing import cart_text, display_name, line_text, price_lines
from atende_shared.ordering.prompts import money, text
from atende_shared.ordering.state import CartLine, EventPublisher, OrderState, PlacedOrder

MAX_QUANTITY = 50

#: Hands the customer to a person (SIP transfer, a paused chat); raises on failure.
HandOff = Callable[[], Awaitable[None]]


class Refusal(Exception):
    """Something the customer can fix; ``message`` is what to tell them."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# -- checks ----------------------------------------------------------------------------


def item_of(state: OrderState, item_id: str) -> MenuItem:
    item = state.index.get(item_id)
    if item is None:
        raise Refusal(text("unknown_item", state.lang) + f" [{item_id}]")
    return item


def _cart_lines(state: OrderState, item: MenuItem, option_id: str | None) -> list[CartLine]:
    """The lines a remove/change names; a Refusal when the item is not in the order."""
    lines = state.lines_for(item.item_id, option_id)
    if not lines:
        raise Refusal(text("not_in_cart", state.lang, name=item.name))
    return lines


def sellable_option(state: OrderState, item: MenuItem, option_id: str | None) -> MenuOption | None:
    lang = state.lang
    options = prompts.join_names([o.name for o in item.options if o.available], lang)
    option = state.index.option(item, option_id)
    if item.sellable and option_id is None and item.options:
        raise Refusal(text("needs_option", lang, name=item.name, options=options))
    if item.sellable and option_id is not None and option is None:
        raise Refusal(text("unknown_option", lang, name=item.name, options=options))
    if not item.sellable or (option is not None and not option.available):
        message = text("sold_out", lang, name=display_name(item, option))
        alternative = state.index.alternative_for(item)
        if alternative is not None:
            message += text(
                "sold_out_alternative",
                lang,
                alternative=f"{alternative.name} [{alternative.item_id}]",
                price=money(alternative.price_cents, lang, state.index.currency),
            )
        raise Refusal(message)
    return option


def _check_quantity(state: OrderState, quantity: int) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise Refusal(text("bad_quantity", state.lang, max=MAX_QUANTITY))


def _check_stock(state: OrderState, item: MenuItem, wanted_total: int) -> None:
    if item.stock is not None and wanted_total > item.stock:
        raise Refusal(text("not_enough_stock", state.lang, stock=item.stock, name=item.name))


def _unlocked(state: OrderState) -> None:
    if state.order is not None:
        raise Refusal(text("order_locked", state.lang))


def already_confirmed(state: OrderState, order: PlacedOrder) -> str:
    total = money(order.total_cents, state.lang, state.index.currency)
    return text("already_confirmed", state.lang, number=order.number, total=total)


# -- tools -----------------------------------------------------------------------------


def search_menu(state: OrderState, query: str) -> str:
    lang = state.lang
    found = state.index.search(query)
    if not found:
        suggestions = [f"{i.name} [{i.item_id}]" for i in state.index.search("", limit=3)]
        return text(
            "search_none",
            lang,
            query=query.strip() or "?",
            suggestions=prompts.join_names(suggestions, lang),
        )
    described = []
    for item in found:
        price = money(item.price_cents, lang, state.index.currency)
        status = "" if item.sellable else text("sold_out_tag", lang)
        described.append(f"{item.name} [{item.item_id}] {price}{status}")
    return text("search_results", lang, items=prompts.join_names(described, lang))


def describe_item(state: OrderState, item_id: str) -> str:
    lang = state.lang
    item = item_of(state, item_id)
    options = ""
    if item.options:
        names = [
            f"{o.name} [{o.option_id}] {money(o.price_cents, lang, state.index.currency)}"
            for o in item.options
            if o.available
        ]
        options = text("describe_options", lang, options=prompts.join_names(names, lang))
    description = f" {item.description}" if item.description else ""
    if not item.sellable:  # asked about a sold-out item: say so, and offer another
        try:
            sellable_option(state, item, None)
        except Refusal as sold_out:
            return sold_out.message
    return text(
        "describe",
        lang,
        name=item.name,
        price=money(item.price_cents, lang, state.index.currency),
        description=description,
        options=options,
    )


def add_item(
    state: OrderState, item_id: str, quantity: int = 1, option_id: str | None = None
) -> str:
    _unlocked(state)
    item = item_of(state, item_id)
    _check_quantity(state, quantity)
    if option_id is None and item.options and item.sellable:
        state.pending_size = (item.item_id, quantity)  # "which size?" comes next
    option = sellable_option(state, item, option_id)
    state.pending_size = None
    line = state.line_for(item.item_id, option.option_id if option else None)
    already = sum(ln.quantity for ln in state.lines_for(item.item_id))
    _check_stock(state, item, already + quantity)
    if line is None:
        line = CartLine(item.item_id, option.option_id if option else None, 0)
        state.cart.append(line)
    line.quantity += quantity
    state.awaiting = None
    return (
        text("added", state.lang, line=line_text(state, item, option, quantity))
        + " "
        + text("anything_else", state.lang)
    )


def remove_item(state: OrderState, item_id: str, option_id: str | None = None) -> str:
    _unlocked(state)
    item = item_of(state, item_id)
    doomed = _cart_lines(state, item, option_id)
    state.cart = [ln for ln in state.cart if ln not in doomed]
    state.awaiting = None
    return text("removed", state.lang, name=item.name) + " " + text("anything_else", state.lang)


def change_item(
    state: OrderState,
    item_id: str,
    quantity: int | None = None,
    option_id: str | None = None,
    new_option_id: str | None = None,
) -> str:
    _unlocked(state)
    item = item_of(state, item_id)
    lines = _cart_lines(state, item, option_id)
    if len(lines) > 1:
        names = [o.name for o in item.options if o.option_id in {ln.option_id for ln in lines}]
        raise Refusal(
            text(
                "needs_option",
                state.lang,
                name=item.name,
                options=prompts.join_names(names, state.lang),
            )
        )
    line = lines[0]
    if quantity == 0:
        state.cart.remove(line)
        return text("removed", state.lang, name=item.name)
    new_quantity = line.quantity if quantity is None else quantity
    _check_quantity(state, new_quantity)
    target_option_id = new_option_id if new_option_id is not None else line.option_id
    option = sellable_option(state, item, target_option_id)
    others = sum(ln.quantity for ln in state.lines_for(item.item_id) if ln is not line)
    _check_stock(state, item, others + new_quantity)
    new_option_id_final = option.option_id if option else None
    merged = state.line_for(item.item_id, new_option_id_final)
    if merged is not None and merged is not line:
        state.cart.remove(line)
        merged.quantity += new_quantity
        final = merged.quantity
    else:  # changed in place, so the read-back keeps the caller's order
        line.option_id, line.quantity = new_option_id_final, new_quantity
        final = new_quantity
    state.awaiting = None
    return text("changed", state.lang, line=line_text(state, item, option, final))


def read_back_cart(state: OrderState) -> str:
    if state.order is not None:
        return already_confirmed(state, state.order)
    if not state.cart:
        return text("cart_empty", state.lang)
    if state.fulfilment is None:
        state.awaiting = "fulfilment"
        follow = text("ask_fulfilment", state.lang)
    else:
        state.awaiting = "confirmation"
        follow = text("ask_confirm", state.lang)
    return cart_text(state) + " " + follow


def set_fulfilment(
    state: OrderState, method: Literal["pickup", "delivery"], address: str | None = None
) -> str:
    _unlocked(state)
    if method == "delivery":
        if not address or len(address.strip()) < 5:
            state.fulfilment = None
            state.awaiting = "address"
            raise Refusal(text("ask_address", state.lang))
        state.fulfilment, state.address = "delivery", address.strip()
        said = text("fulfilment_delivery", state.lang, address=state.address)
    else:
        state.fulfilment, state.address = "pickup", None
        said = text("fulfilment_pickup", state.lang)
    if not state.cart:
        state.awaiting = None
        return said + " " + text("cart_empty", state.lang)
    state.awaiting = "confirmation"
    return said + " " + cart_text(state) + " " + text("ask_confirm", state.lang)


async def confirm_order(state: OrderState, publisher: EventPublisher) -> str:
    """Place the order (publish ``OrderPlaced``); safe to call twice."""
    lang = state.lang
    async with state.confirm_lock:  # two confirmations in one turn publish once
        if state.order is not None:
            return already_confirmed(state, state.order)
        if not state.cart:
            raise Refusal(text("cart_empty", lang))
        if state.fulfilment is None:
            state.awaiting = "fulfilment"
            raise Refusal(text("confirm_needs_fulfilment", lang))
        for line in state.cart:  # a menu item may have sold out since it was added
            sellable_option(state, item_of(state, line.item_id), line.option_id)
        lines = price_lines(state)
        total = sum(ln.line_total_cents for ln in lines)
        order_id, number = state.order_identity()
        event = OrderPlaced(
            event_id=order_id,  # stable: consumers dedupe a re-published order
            tenant_id=state.tenant.tenant_id,
            correlation_id=state.correlation_id,
            order_id=order_id,
            call_id=state.conversation_id if state.channel == "voice" else None,
            channel=state.channel,
            conversation_id=state.conversation_id if state.channel != "voice" else None,
            lines=lines,
            total_cents=total,
            fulfilment=state.fulfilment,
            delivery_address=state.address,
            customer_phone=state.caller_number,
        )
        try:
            await asyncio.to_thread(publisher.publish, [event])
        except DependencyUnavailable as exc:
            logger.error(
                "order publish failed",
                extra={"conversation_id": state.conversation_id, "error": str(exc)},
            )
            raise Refusal(text("order_failed", lang)) from exc
        state.order = PlacedOrder(order_id=order_id, number=number, total_cents=total)
        state.outcome = "ordered"
        state.awaiting = None
        logger.info(
            "order placed",
            extra={
                "conversation_id": state.conversation_id,
                "order_id": order_id,
                "total_cents": total,
            },
        )
        return text(
            "confirmed", lang, number=number, total=money(total, lang, state.index.currency)
        )


async def transfer_to_human(state: OrderState, hand_off: HandOff | None) -> str:
    """Hand the customer to a person (``None``: nobody can take them now)."""
    if hand_off is None:
        return text("no_transfer", state.lang)
    try:
        await hand_off()
    except Exception as exc:
        logger.warning(
            "hand-off failed", extra={"conversation_id": state.conversation_id, "error": str(exc)}
        )
        return text("transfer_failed", state.lang)
    if state.outcome == "in_progress":
        state.outcome = "transferred"
    return text("transferring", state.lang)


def end_conversation(state: OrderState) -> str:
    """The goodbye; the conversation's outcome is settled."""
    if state.outcome == "in_progress":
        state.outcome = "ordered" if state.order else "ended_without_order"
    return text("goodbye", state.lang)
