"""The cart priced from the menu, in integer cents — what ``OrderPlaced`` carries.

Nothing here reads an amount from the customer or the LLM: a line's unit price is the
menu's (:meth:`MenuIndex.unit_price`), a total is the sum of the lines.
"""

from __future__ import annotations

from atende_shared.events import OrderLine
from atende_shared.models.menu import MenuItem, MenuOption
from atende_shared.ordering import prompts
from atende_shared.ordering.prompts import money, text
from atende_shared.ordering.state import OrderState


def display_name(item: MenuItem, option: MenuOption | None) -> str:
    return f"{item.name} {option.name}" if option else item.name


def price_lines(state: OrderState) -> list[OrderLine]:
    """The cart priced from the menu (integer cents); what OrderPlaced carries."""
    lines: list[OrderLine] = []
    for line in state.cart:
        item = state.index.get(line.item_id)
        if item is None:  # the cart only ever holds ids the tools validated
            continue
        option = state.index.option(item, line.option_id)
        unit = state.index.unit_price(item, option)
        lines.append(
            OrderLine(
                item_id=item.item_id,
                option_id=option.option_id if option else None,
                name=display_name(item, option),
                quantity=line.quantity,
                unit_price_cents=unit,
                line_total_cents=unit * line.quantity,
            )
        )
    return lines


def cart_total(state: OrderState) -> int:
    return sum(line.line_total_cents for line in price_lines(state))


def line_text(state: OrderState, item: MenuItem, option: MenuOption | None, qty: int) -> str:
    unit = state.index.unit_price(item, option)
    total = money(unit * qty, state.lang, state.index.currency)
    return f"{qty}x {display_name(item, option)} [{item.item_id}] {total}"


def cart_text(state: OrderState) -> str:
    lang = state.lang
    parts = [
        f"{ln.quantity}x {ln.name} {money(ln.line_total_cents, lang, state.index.currency)}"
        for ln in price_lines(state)
    ]
    total = money(cart_total(state), lang, state.index.currency)
    return text("cart", lang, lines=prompts.join_names(parts, lang), total=total)
