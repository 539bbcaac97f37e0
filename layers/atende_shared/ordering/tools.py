"""The tools' semantics, channel-neutral: what each tool does to one conversation's
:class:`OrderState`.

Tools take menu ids, quantities and the customer's words (an address, a name, a note);
every amount is computed from the menu and the tenant's settings (:mod:`.pricing`).
Problems the customer can fix (unknown size, sold out, out of the delivery area, no
address yet) raise :class:`Refusal` with a sentence the LLM — or the offline brain — can
say; a channel adapter turns it into its own error (the LiveKit agent raises
``ToolError``). Results carry menu ids in ``[brackets]`` for a real LLM; the offline brain
strips them before speaking.
"""

from __future__ import annotations

import asyncio
import re
import unicodedata
from collections.abc import Awaitable, Callable
from typing import Literal

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import OrderPayment, OrderPlaced
from atende_shared.models.menu import MAX_NOTE_CHARS, MenuItem, MenuOption, ModifierGroup
from atende_shared.observability import logger
from atende_shared.ordering import prompts
from atende_shared.ordering.address import parse_address, zone_for
from atende_shared.ordering.pricing import (
    cart_text,
    cart_total,
    delivery_fee,
    display_name,
    line_text,
    order_total,
    price_lines,
)
from atende_shared.ordering.prompts import money, text
from atende_shared.ordering.state import CartLine, EventPublisher, OrderState, PlacedOrder

MAX_QUANTITY = 50

#: Hands the customer to a person (SIP transfer, a paused chat); raises on failure.
HandOff = Callable[[], Awaitable[None]]
#: Allocates the kitchen's order number: (tenant id, order id) → number
#: (``atende_shared.dal.order_numbers`` behind it; the order id lets an allocator be idempotent).
NumberAllocator = Callable[[str, str], int]
PaymentMethod = Literal["cash", "credit_card", "debit_card", "card", "pix"]


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


def _money(state: OrderState, cents: int) -> str:
    return money(cents, state.lang, state.index.currency)


def _cart_lines(state: OrderState, item: MenuItem, option_id: str | None) -> list[CartLine]:
    """The lines a remove/change names; a Refusal when the item is not in the order."""
    lines = state.lines_for(item.item_id, option_id)
    if not lines:
        raise Refusal(text("not_in_cart", state.lang, name=item.name))
    return lines


def _one_line(state: OrderState, item: MenuItem, option_id: str | None) -> CartLine:
    """The line a change names: the only one, or the latest when they share a size."""
    lines = _cart_lines(state, item, option_id)
    if len({ln.option_id for ln in lines}) > 1:
        names = [o.name for o in item.options if o.option_id in {ln.option_id for ln in lines}]
        raise Refusal(
            text(
                "needs_option",
                state.lang,
                name=item.name,
                options=prompts.join_names(names, state.lang),
            )
        )
    return lines[-1]


def sold_out_message(state: OrderState, item: MenuItem, option: MenuOption | None) -> str:
    lang = state.lang
    message = text("sold_out", lang, name=display_name(item, option))
    alternative = state.index.alternative_for(item)
    if alternative is not None:
        state.offered = alternative.item_id
        message += text(
            "sold_out_alternative",
            lang,
            alternative=f"{alternative.name} [{alternative.item_id}]",
            price=_money(state, alternative.price_cents),
        )
    return message


def sellable_option(state: OrderState, item: MenuItem, option_id: str | None) -> MenuOption | None:
    lang = state.lang
    options = prompts.join_names([o.name for o in item.options if o.available], lang)
    option = state.index.option(item, option_id)
    if item.sellable and option_id is None and item.options:
        raise Refusal(text("needs_option", lang, name=item.name, options=options))
    if item.sellable and option_id is not None and option is None:
        raise Refusal(text("unknown_option", lang, name=item.name, options=options))
    if not item.sellable or (option is not None and not option.available):
        raise Refusal(sold_out_message(state, item, option))
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


_CONTROL = re.compile(r"[\x00-\x1f\x7f\[\]{}<>`]")


def sanitise_note(note: str | None) -> str | None:
    """A customer's note as stored: no control characters or markup, one line, capped."""
    if not note:
        return None
    cleaned = unicodedata.normalize("NFKC", note)
    cleaned = " ".join(_CONTROL.sub(" ", cleaned).split())[:MAX_NOTE_CHARS].strip(" ,.;")
    return cleaned or None


def _check_flavours(
    state: OrderState, item: MenuItem, flavour_ids: list[str], option_id: str | None
) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys([item.item_id, *flavour_ids]))
    if len(ids) <= 1:
        return ()
    lang = state.lang
    if item.max_flavours < 2:
        raise Refusal(text("no_flavours", lang, name=item.name))
    if len(ids) > item.max_flavours:
        raise Refusal(text("too_many_flavours", lang, name=item.name, max=item.max_flavours))
    for flavour_id in ids[1:]:
        flavour = item_of(state, flavour_id)
        if flavour.max_flavours < 2 or flavour.flavour_key != item.flavour_key:
            raise Refusal(text("not_a_flavour", lang, name=flavour.name, item=item.name))
        option = state.index.option(flavour, option_id)
        if option_id is not None and option is None:
            raise Refusal(text("not_a_flavour", lang, name=flavour.name, item=item.name))
        if not flavour.sellable or (option is not None and not option.available):
            raise Refusal(sold_out_message(state, flavour, option))
    return ids


def _group_of(state: OrderState, item: MenuItem, modifier_id: str) -> ModifierGroup | None:
    found = state.index.modifier(item, modifier_id)
    return found[0] if found else None


def _check_modifiers(state: OrderState, item: MenuItem, modifier_ids: list[str]) -> tuple[str, ...]:
    lang = state.lang
    chosen: list[str] = []
    for modifier_id in modifier_ids:
        found = state.index.modifier(item, modifier_id)
        if found is None:
            groups = prompts.join_names([g.name for g in state.index.groups(item)], lang)
            raise Refusal(text("unknown_modifier", lang, name=item.name, groups=groups or "-"))
        group, modifier = found
        if not modifier.available:
            raise Refusal(text("modifier_sold_out", lang, name=modifier.name))
        in_group = [m for m in chosen if _group_of(state, item, m) is group]
        if group.max == 1 and in_group:
            chosen.remove(in_group[0])  # one per group: the newer choice replaces the older
        elif len(in_group) >= group.max:
            raise Refusal(text("too_many_modifiers", lang, group=group.name, max=group.max))
        chosen.append(modifier_id)
    return tuple(chosen)


def _missing_required(state: OrderState) -> str | None:
    for line in state.cart:
        item = state.index.get(line.item_id)
        if item is None:
            continue
        for group in state.index.groups(item):
            picked = sum(1 for m in line.modifiers if _group_of(state, item, m) is group)
            if picked < group.min:
                options = [m.name for m in group.modifiers if m.available]
                state.focus = item.item_id
                return text(
                    "needs_modifier",
                    state.lang,
                    group=group.name,
                    name=item.name,
                    options=prompts.join_names(options, state.lang),
                )
    return None


def already_confirmed(state: OrderState, order: PlacedOrder) -> str:
    return text(
        "already_confirmed", state.lang, number=order.number, total=_money(state, order.total_cents)
    )


def next_question(state: OrderState) -> str:
    """What is still missing before the order can be confirmed, asked (sets ``awaiting``)."""
    lang = state.lang
    settings = state.tenant.delivery
    if not state.cart:
        state.awaiting = None
        return text("cart_empty", lang)
    if (missing := _missing_required(state)) is not None:
        state.awaiting = None
        return missing
    if state.fulfilment is None:
        state.awaiting = "fulfilment"
        if settings.delivery and settings.pickup:
            return text("ask_fulfilment", lang)
        if not settings.delivery:
            state.fulfilment = "pickup"
            return next_question(state)
        state.fulfilment = "delivery"
    if state.fulfilment == "delivery" and state.delivery_address is None:
        state.awaiting = "address"
        return text("ask_address", lang)
    if state.fulfilment == "delivery" and state.zone is None and settings.zones:
        state.awaiting = "neighbourhood"
        return text("ask_neighbourhood", lang)
    if (
        state.fulfilment == "delivery"
        and state.zone is not None
        and cart_total(state) < state.zone.minimum_order_cents
    ):
        state.awaiting = None
        return text(
            "below_minimum",
            lang,
            zone=state.zone.name,
            minimum=_money(state, state.zone.minimum_order_cents),
        )
    if state.payment is None:
        state.awaiting = "payment"
        methods = [text(f"pay_{m}", lang) for m in settings.payment_methods]
        return text("ask_payment", lang, methods=prompts.join_names(methods, lang, choice=True))
    if state.customer_name is None:
        state.awaiting = "name"
        return text("ask_name", lang)
    state.awaiting = "confirmation"
    return text("ask_confirm", lang)


def _ready(state: OrderState) -> bool:
    question = next_question(state)
    return state.awaiting == "confirmation" and question == text("ask_confirm", state.lang)


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
    state.candidates = [i.item_id for i in found]
    described = []
    for item in found:
        status = "" if item.sellable else text("sold_out_tag", lang)
        described.append(f"{item.name} [{item.item_id}] {_money(state, item.price_cents)}{status}")
    return text("search_results", lang, items=prompts.join_names(described, lang))


def describe_item(state: OrderState, item_id: str) -> str:
    lang = state.lang
    item = item_of(state, item_id)
    if not item.sellable:  # asked about a sold-out item: say so, and offer another
        return sold_out_message(state, item, None)
    state.offered = item.item_id
    options = ""
    if item.options:
        names = [
            f"{o.name} [{o.option_id}] {_money(state, o.price_cents)}"
            for o in item.options
            if o.available
        ]
        options = text("describe_options", lang, options=prompts.join_names(names, lang))
    extras = ""
    for group in state.index.groups(item):
        mods = [
            f"{m.name} [{m.modifier_id}] +{_money(state, m.price_delta_cents)}"
            for m in group.modifiers
            if m.available
        ]
        extras += text(
            "describe_group", lang, group=group.name, options=prompts.join_names(mods, lang)
        )
    if item.max_flavours > 1:
        extras += text("describe_flavours", lang, max=item.max_flavours)
    description = f" {item.description}" if item.description else ""
    return text(
        "describe",
        lang,
        name=item.name,
        price=_money(state, item.price_cents),
        description=description,
        options=options + extras,
    )


def add_item(
    state: OrderState,
    item_id: str,
    quantity: int = 1,
    option_id: str | None = None,
    flavour_ids: list[str] | None = None,
    modifier_ids: list[str] | None = None,
    notes: str | None = None,
) -> str:
    _unlocked(state)
    item = item_of(state, item_id)
    _check_quantity(state, quantity)
    if option_id is None and item.options and item.sellable:
        state.pending_size = (item.item_id, quantity)  # "which size?" comes next
    try:
        option = sellable_option(state, item, option_id)
    except Refusal:
        if state.offered is not None and state.offered != item.item_id:
            state.offered_for = (quantity, option_id)  # "pode ser" keeps the size asked for
        raise
    state.pending_size = None
    real_option = option.option_id if option else None
    flavours = _check_flavours(state, item, list(flavour_ids or []), real_option)
    modifiers = _check_modifiers(state, item, list(modifier_ids or []))
    note = sanitise_note(notes) if item.notes_allowed else None
    new = CartLine(item.item_id, real_option, quantity, flavours, modifiers, note)
    already = sum(ln.quantity for ln in state.lines_for(item.item_id))
    _check_stock(state, item, already + quantity)
    same = next((ln for ln in state.cart if ln.same_recipe(new)), None)
    if same is None:
        state.cart.append(new)
    else:
        same.quantity += quantity
    state.awaiting, state.focus, state.offered, state.misunderstood = None, item.item_id, None, 0
    state.offered_for = None
    return (
        text("added", state.lang, line=line_text(state, new))
        + " "
        + text("anything_else", state.lang)
    )


def remove_item(
    state: OrderState, item_id: str, option_id: str | None = None, quantity: int | None = None
) -> str:
    """Remove the item (every size unless ``option_id``), or only ``quantity`` of it."""
    _unlocked(state)
    item = item_of(state, item_id)
    lines = _cart_lines(state, item, option_id)
    state.awaiting = None
    if quantity is not None and quantity < sum(ln.quantity for ln in lines):
        left = quantity
        for line in reversed(lines):
            take = min(left, line.quantity)
            line.quantity -= take
            left -= take
        state.cart = [ln for ln in state.cart if ln.quantity > 0]
        remaining = state.lines_for(item.item_id, option_id)
        state.focus = item.item_id
        return (
            text("changed", state.lang, line=line_text(state, remaining[-1]))
            + " "
            + text("anything_else", state.lang)
        )
    state.cart = [ln for ln in state.cart if ln not in lines]
    if state.focus == item.item_id:  # the line under discussion is gone: the latest one is
        state.focus = state.cart[-1].item_id if state.cart else None
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
    line = _one_line(state, item, option_id)
    if quantity == 0:
        state.cart.remove(line)
        return text("removed", state.lang, name=item.name)
    new_quantity = line.quantity if quantity is None else quantity
    _check_quantity(state, new_quantity)
    target_option_id = new_option_id if new_option_id is not None else line.option_id
    option = sellable_option(state, item, target_option_id)
    others = sum(ln.quantity for ln in state.lines_for(item.item_id) if ln is not line)
    _check_stock(state, item, others + new_quantity)
    final_option = option.option_id if option else None
    if line.flavours:
        _check_flavours(state, item, list(line.flavours[1:]), final_option)
    line.option_id, line.quantity = final_option, new_quantity
    same = next((ln for ln in state.cart if ln is not line and ln.same_recipe(line)), None)
    if same is not None:  # now identical to another line: one line
        same.quantity += line.quantity
        state.cart.remove(line)
        line = same
    state.awaiting, state.focus = None, item.item_id
    return text("changed", state.lang, line=line_text(state, line))


def replace_item(
    state: OrderState, item_id: str, new_item_id: str, new_option_id: str | None = None
) -> str:
    """ "Troca X por Y": Y takes X's place (same quantity, and size when Y has it)."""
    _unlocked(state)
    old = item_of(state, item_id)
    new = item_of(state, new_item_id)
    line = _one_line(state, old, None)
    option_id = new_option_id
    if option_id is None and new.options:
        option_id = line.option_id if state.index.option(new, line.option_id) else None
    if option_id is None and new.options:
        state.pending_size = (new.item_id, line.quantity)
    sellable_option(state, new, option_id)  # refuses before anything changes
    state.cart.remove(line)
    try:
        added = add_item(state, new.item_id, line.quantity, option_id)
    except Refusal:
        state.cart.append(line)
        raise
    return text("replaced", state.lang, old=old.name) + " " + added


def set_modifiers(
    state: OrderState,
    item_id: str,
    modifier_ids: list[str] | None = None,
    notes: str | None = None,
) -> str:
    """Add modifiers (and/or a note) to the latest line of ``item_id``."""
    _unlocked(state)
    item = item_of(state, item_id)
    line = _cart_lines(state, item, None)[-1]
    line.modifiers = _check_modifiers(state, item, [*line.modifiers, *(modifier_ids or [])])
    if notes and item.notes_allowed:
        joined = f"{line.notes}, {notes}" if line.notes else notes
        line.notes = sanitise_note(joined)
    state.awaiting, state.focus = None, item.item_id
    return (
        text("changed", state.lang, line=line_text(state, line))
        + " "
        + text("anything_else", state.lang)
    )


def set_flavours(state: OrderState, item_id: str, flavour_ids: list[str]) -> str:
    """Make the latest line of ``item_id`` a pizza of these flavours (its own first)."""
    _unlocked(state)
    item = item_of(state, item_id)
    line = _cart_lines(state, item, None)[-1]
    line.flavours = _check_flavours(state, item, flavour_ids, line.option_id)
    state.awaiting, state.focus = None, item.item_id
    return (
        text("changed", state.lang, line=line_text(state, line))
        + " "
        + text("anything_else", state.lang)
    )


def clear_cart(state: OrderState) -> str:
    """ "Cancela tudo": an empty order, and the conversation goes on."""
    _unlocked(state)
    state.cart.clear()
    state.awaiting = state.focus = state.offered = None
    state.pending_size = None
    return text("cleared", state.lang)


def read_back_cart(state: OrderState) -> str:
    if state.order is not None:
        return already_confirmed(state, state.order)
    if not state.cart:
        return text("cart_empty", state.lang)
    extra = ""
    if state.fulfilment == "delivery" and state.delivery_address is not None:
        extra += " " + text("readback_delivery", state.lang, address=state.delivery_address.raw)
    elif state.fulfilment == "pickup":
        extra += " " + text("readback_pickup", state.lang)
    if state.payment is not None:
        extra += " " + payment_text(state)
    if state.customer_name:
        extra += " " + text("readback_name", state.lang, name=state.customer_name)
    return cart_text(state) + extra + " " + next_question(state)


def quote_delivery(state: OrderState, address: str) -> str:
    """Fee, minimum and estimated time for delivering to ``address`` (nothing is set)."""
    parsed = parse_address(address)
    answer = zone_for(parsed, state.tenant.delivery)
    lang = state.lang
    if answer.status == "anywhere":
        return text("quote_free", lang, minutes=state.tenant.orders.estimated_delivery_minutes)
    if answer.zone is None:
        if answer.status == "outside":
            return _outside(state, answer.place)
        return text("ask_neighbourhood", lang)
    zone = answer.zone
    return text(
        "quote",
        lang,
        zone=zone.name,
        fee=_money(state, zone.fee_cents),
        minimum=_money(state, zone.minimum_order_cents),
        minutes=zone.estimated_minutes,
    )


def _outside(state: OrderState, place: str) -> str:
    zones = prompts.join_names([z.name for z in state.tenant.delivery.zones], state.lang)
    pickup = text("offer_pickup", state.lang) if state.tenant.delivery.pickup else ""
    return text("out_of_zone", state.lang, place=place, zones=zones) + pickup


def set_fulfilment(
    state: OrderState, method: Literal["pickup", "delivery"], address: str | None = None
) -> str:
    _unlocked(state)
    lang = state.lang
    settings = state.tenant.delivery
    if method == "pickup":
        if not settings.pickup:
            raise Refusal(text("no_pickup", lang))
        state.fulfilment, state.address, state.delivery_address, state.zone = (
            "pickup",
            None,
            None,
            None,
        )
        minutes = state.tenant.orders.estimated_pickup_minutes
        return text("fulfilment_pickup", lang, minutes=minutes) + " " + next_question(state)
    if not settings.delivery:
        raise Refusal(text("no_delivery", lang))
    state.fulfilment = "delivery"
    if not address or len(address.strip()) < 3:
        if state.delivery_address is not None:
            return next_question(state)
        state.awaiting = "address"
        raise Refusal(text("ask_address", lang))
    parsed = parse_address(address)
    if (
        state.awaiting == "neighbourhood"
        and state.delivery_address is not None
        and parsed.street is None
    ):  # the answer to "which neighbourhood?": the same address, now with it
        raw = f"{state.delivery_address.raw}, {address.strip()}"
        parsed = parse_address(raw).model_copy(
            update={"neighbourhood": parsed.neighbourhood or address.strip(" .,")[:100]}
        )
    answer = zone_for(parsed, settings)
    if answer.status == "outside":
        state.fulfilment, state.delivery_address, state.zone = None, None, None
        state.awaiting = "fulfilment"
        raise Refusal(_outside(state, answer.place))
    if (
        answer.zone is not None
        and parsed.neighbourhood is None
        and not answer.place.startswith("0123456789")
        and not parsed.postal_code
    ):
        parsed = parsed.model_copy(update={"neighbourhood": answer.place})
    state.delivery_address, state.address, state.zone = parsed, parsed.raw, answer.zone
    if answer.status == "unknown":
        state.awaiting = "neighbourhood"
        return text("ask_neighbourhood", lang)
    said = text("fulfilment_delivery", lang, address=parsed.raw)
    if answer.zone is not None:
        said += " " + text(
            "zone_fee",
            lang,
            fee=_money(state, answer.zone.fee_cents),
            minutes=answer.zone.estimated_minutes,
        )
    return said + " " + next_question(state)


def payment_text(state: OrderState) -> str:
    payment = state.payment
    if payment is None:
        return ""
    method = text(f"pay_{payment.method}", state.lang)
    if payment.change_for_cents:
        return text(
            "payment_change",
            state.lang,
            method=method,
            change=_money(state, payment.change_for_cents),
        )
    return text("payment", state.lang, method=method)


def set_payment(
    state: OrderState, method: PaymentMethod, change_for_cents: int | None = None
) -> str:
    """How the customer pays; for cash, the note to bring change for (integer cents)."""
    _unlocked(state)
    lang = state.lang
    accepted = state.tenant.delivery.payment_methods
    wanted: str = method
    cards = [m for m in accepted if m in ("credit_card", "debit_card")]
    if method == "card" and cards:
        wanted = "card" if len(cards) == 2 else cards[0]
    elif wanted not in accepted:
        names = prompts.join_names([text(f"pay_{m}", lang) for m in accepted], lang)
        raise Refusal(
            text("payment_not_accepted", lang, method=text(f"pay_{wanted}", lang), methods=names)
        )
    change = change_for_cents if wanted == "cash" and change_for_cents else None
    total = order_total(state)
    if change is not None and change < total:
        state.awaiting = "change"
        raise Refusal(
            text("change_too_small", lang, change=_money(state, change), total=_money(state, total))
        )
    state.payment = OrderPayment.model_validate({"method": wanted, "change_for_cents": change})
    return payment_text(state) + " " + next_question(state)


def set_customer_name(state: OrderState, name: str) -> str:
    cleaned = " ".join(re.sub(r"[^\w\s'.-]", " ", name).split())[:60].strip(" .-")
    if not cleaned:
        state.awaiting = "name"
        raise Refusal(text("ask_name", state.lang))
    state.customer_name = cleaned.title() if cleaned.islower() else cleaned
    return text("name_noted", state.lang, name=state.customer_name) + " " + next_question(state)


def repeat_last_order(state: OrderState) -> str:
    """ "O de sempre": the returning customer's last order, re-priced from today's menu."""
    _unlocked(state)
    lang = state.lang
    if not state.last_order:
        return text("no_last_order", lang)
    added, missing = [], []
    for old in state.last_order:
        item = state.index.get(old.item_id)
        try:
            if item is None:
                raise Refusal("")
            add_item(
                state,
                old.item_id,
                old.quantity,
                old.option_id,
                list(old.flavours[1:]),
                list(old.modifiers),
                old.notes,
            )
            added.append(old.item_id)
        except Refusal:
            missing.append(item.name if item else old.item_id)
    said = text("last_order_added", lang) if added else ""
    if missing:
        said += " " + text("last_order_missing", lang, names=prompts.join_names(missing, lang))
    return (said + " " + read_back_cart(state)).strip()


async def confirm_order(
    state: OrderState,
    publisher: EventPublisher,
    allocate_number: NumberAllocator | None = None,
) -> str:
    """Place the order (publish ``OrderPlaced``); safe to call twice."""
    lang = state.lang
    async with state.confirm_lock:  # two confirmations in one turn publish once
        if state.order is not None:
            return already_confirmed(state, state.order)
        if not state.cart:
            raise Refusal(text("cart_empty", lang))
        for line in state.cart:  # a menu item may have sold out since it was added
            sellable_option(state, item_of(state, line.item_id), line.option_id)
            for flavour in line.flavours[1:]:
                sellable_option(state, item_of(state, flavour), line.option_id)
        if state.fulfilment is None:
            state.awaiting = "fulfilment"
            raise Refusal(text("confirm_needs_fulfilment", lang))
        if not _ready(state):
            raise Refusal(next_question(state))
        lines = price_lines(state)
        subtotal = sum(ln.line_total_cents for ln in lines)
        fee = delivery_fee(state)
        total = subtotal + fee
        order_id, number = state.order_identity()
        order_number: int | None = None
        if allocate_number is not None:
            try:
                order_number = await asyncio.to_thread(
                    allocate_number, state.tenant.tenant_id, order_id
                )
                number = str(order_number)
            except Exception as exc:  # the orders domain allocates one when we could not
                logger.warning("order number allocation failed", extra={"error": str(exc)})
        minutes = (
            (
                state.zone.estimated_minutes
                if state.zone
                else state.tenant.orders.estimated_delivery_minutes
            )
            if state.fulfilment == "delivery"
            else state.tenant.orders.estimated_pickup_minutes
        )
        event = OrderPlaced(
            event_id=order_id,  # stable: consumers dedupe a re-published order
            tenant_id=state.tenant.tenant_id,
            correlation_id=state.correlation_id,
            order_id=order_id,
            order_number=order_number,
            call_id=state.conversation_id if state.channel == "voice" else None,
            channel=state.channel,
            conversation_id=state.conversation_id if state.channel != "voice" else None,
            lines=lines,
            subtotal_cents=subtotal,
            delivery_fee_cents=fee,
            total_cents=total,
            fulfilment=state.fulfilment,
            delivery_address=state.address,
            address=state.delivery_address,
            customer_phone=state.caller_number,
            customer_name=state.customer_name,
            payment=state.payment,
            language=state.lang,
            estimated_minutes=minutes,
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
        return text("confirmed", lang, number=number, total=_money(state, total), minutes=minutes)


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
