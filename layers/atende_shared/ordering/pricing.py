"""The cart priced from the menu and the tenant's rules, in integer cents.

Nothing here reads an amount from the customer or the LLM. A line's unit price is:

* its base — the item's price, or the chosen size's (an option's price replaces the
  item's); for a fractional item (several flavours) the flavours' base prices in that size
  combined by the tenant's rule: ``highest`` (the dearest flavour) or ``average`` (the mean,
  rounded half-up to the cent);
* plus every chosen modifier's ``price_delta_cents`` (never below zero in total).

The order's total is the lines' sum plus the delivery zone's fee.
"""

from __future__ import annotations

from atende_shared.events import OrderFlavour, OrderLine, OrderModifier
from atende_shared.models.menu import MenuItem, MenuOption
from atende_shared.ordering import prompts
from atende_shared.ordering.prompts import money, text
from atende_shared.ordering.state import CartLine, OrderState


def display_name(item: MenuItem, option: MenuOption | None) -> str:
    return f"{item.name} {option.name}" if option else item.name


def combine_flavours(prices: list[int], rule: str) -> int:
    """The base price of a pizza of several flavours (integer cents)."""
    if not prices:
        return 0
    if rule == "average":
        return (2 * sum(prices) + len(prices)) // (2 * len(prices))  # half-up, integers only
    return max(prices)


def base_price(state: OrderState, line: CartLine) -> int:
    ids = line.flavours or (line.item_id,)
    prices: list[int] = []
    for flavour_id in ids:
        item = state.index.get(flavour_id)
        if item is None:
            continue
        prices.append(state.index.unit_price(item, state.index.option(item, line.option_id)))
    return combine_flavours(prices, state.tenant.delivery.flavour_pricing)


def modifiers_of(state: OrderState, line: CartLine) -> list[OrderModifier]:
    item = state.index.get(line.item_id)
    chosen: list[OrderModifier] = []
    if item is None:
        return chosen
    for modifier_id in dict.fromkeys(line.modifiers):  # once each, with its count
        found = state.index.modifier(item, modifier_id)
        if found is None:
            continue
        group, modifier = found
        chosen.append(
            OrderModifier(
                modifier_id=modifier.modifier_id,
                group_id=group.group_id,
                name=modifier.name,
                quantity=line.modifiers.count(modifier_id),
                price_delta_cents=modifier.price_delta_cents,
            )
        )
    return chosen


def unit_price(state: OrderState, line: CartLine) -> int:
    deltas = sum(m.price_delta_cents * m.quantity for m in modifiers_of(state, line))
    return max(0, base_price(state, line) + deltas)


def line_name(state: OrderState, line: CartLine) -> str:
    """ "Pizza Grande meio Calabresa meio Portuguesa com Borda Catupiry (sem cebola)"."""
    item = state.index.get(line.item_id)
    if item is None:
        return line.item_id
    option = state.index.option(item, line.option_id)
    lang = state.lang
    if len(line.flavours) > 1:
        names = [state.index.get(f).name for f in line.flavours if state.index.get(f)]  # type: ignore[union-attr]
        name = text("flavours_name", lang, flavours=prompts.join_names(names, lang))
        if option is not None:
            name = f"{name} {option.name}"
    else:
        name = display_name(item, option)
    mods = modifiers_of(state, line)
    if mods:
        mod_names = [m.name if m.quantity == 1 else f"{m.quantity}x {m.name}" for m in mods]
        name += " " + text("with_modifiers", lang, modifiers=prompts.join_names(mod_names, lang))
    if line.notes:
        name += f" ({line.notes})"
    return name


def price_line(state: OrderState, line: CartLine) -> OrderLine | None:
    item = state.index.get(line.item_id)
    if item is None:  # the cart only ever holds ids the tools validated
        return None
    unit = unit_price(state, line)
    flavours = [
        OrderFlavour(item_id=f, name=state.index.get(f).name)  # type: ignore[union-attr]
        for f in line.flavours
        if state.index.get(f) is not None
    ]
    return OrderLine(
        item_id=item.item_id,
        option_id=line.option_id,
        name=line_name(state, line)[:200],
        quantity=line.quantity,
        unit_price_cents=unit,
        line_total_cents=unit * line.quantity,
        flavours=flavours if len(flavours) > 1 else [],
        modifiers=modifiers_of(state, line),
        notes=line.notes,
    )


def price_lines(state: OrderState) -> list[OrderLine]:
    """The cart priced from the menu (integer cents); what OrderPlaced carries."""
    return [priced for line in state.cart if (priced := price_line(state, line)) is not None]


def cart_total(state: OrderState) -> int:
    """The items' subtotal (no delivery fee)."""
    return sum(line.line_total_cents for line in price_lines(state))


def delivery_fee(state: OrderState) -> int:
    return state.zone.fee_cents if state.fulfilment == "delivery" and state.zone else 0


def order_total(state: OrderState) -> int:
    return cart_total(state) + delivery_fee(state)


def line_text(state: OrderState, line: CartLine, quantity: int | None = None) -> str:
    qty = line.quantity if quantity is None else quantity
    total = money(unit_price(state, line) * qty, state.lang, state.index.currency)
    return f"{qty}x {line_name(state, line)} [{line.item_id}] {total}"


def cart_text(state: OrderState) -> str:
    lang, currency = state.lang, state.index.currency
    parts = [
        f"{ln.quantity}x {ln.name} {money(ln.line_total_cents, lang, currency)}"
        for ln in price_lines(state)
    ]
    fee = delivery_fee(state)
    if fee:
        parts.append(text("fee_line", lang, fee=money(fee, lang, currency)))
    total = money(order_total(state), lang, currency)
    return text("cart", lang, lines=prompts.join_names(parts, lang), total=total)
