"""The ordering agent: greeting, the tools, and the polite refusal.

Tools take menu ids and quantities only; every amount is computed here from the menu the
call loaded (``MenuItem.price_cents`` / ``MenuOption.price_cents``). Problems the caller can
fix (unknown size, sold out, no address yet) raise ``ToolError`` with a sentence the LLM —
or the offline brain — can say. Tool results carry menu ids in ``[brackets]`` for a real
LLM; the offline brain strips them before speaking.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from livekit.agents import Agent, RunContext, ToolError, function_tool

from atende_shared.errors import DependencyUnavailable
from atende_shared.events import OrderLine, OrderPlaced
from atende_shared.models.menu import MenuItem, MenuOption
from atende_shared.models.tenant import AgentConfig
from atende_shared.observability import logger
from voice_fargate import prompts
from voice_fargate.prompts import money, text
from voice_fargate.state import CallState, CartLine, PlacedOrder

MAX_QUANTITY = 50


def price_lines(state: CallState) -> list[OrderLine]:
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
                name=_display_name(item, option),
                quantity=line.quantity,
                unit_price_cents=unit,
                line_total_cents=unit * line.quantity,
            )
        )
    return lines


def cart_total(state: CallState) -> int:
    return sum(line.line_total_cents for line in price_lines(state))


def _display_name(item: MenuItem, option: MenuOption | None) -> str:
    return f"{item.name} {option.name}" if option else item.name


def _line_text(state: CallState, item: MenuItem, option: MenuOption | None, qty: int) -> str:
    unit = state.index.unit_price(item, option)
    total = money(unit * qty, state.lang, state.index.currency)
    return f"{qty}x {_display_name(item, option)} [{item.item_id}] {total}"


def cart_text(state: CallState) -> str:
    lang = state.lang
    parts = [
        f"{ln.quantity}x {ln.name} {money(ln.line_total_cents, lang, state.index.currency)}"
        for ln in price_lines(state)
    ]
    total = money(cart_total(state), lang, state.index.currency)
    return text("cart", lang, lines=prompts.join_names(parts, lang), total=total)


def _already_confirmed(state: CallState, order: PlacedOrder) -> str:
    total = money(order.total_cents, state.lang, state.index.currency)
    return text("already_confirmed", state.lang, number=order.number, total=total)


class OrderingAgent(Agent):
    """Takes one caller's order for one tenant."""

    def __init__(self, state: CallState) -> None:
        super().__init__(
            instructions=prompts.system_instructions(
                state.lang, business=state.tenant.name, extra=state.agent_config.instructions
            )
        )
        self._state = state

    async def on_enter(self) -> None:
        config = self._state.agent_config
        template = config.greeting
        if template == AgentConfig.model_fields["greeting"].default:
            # The stock greeting is Portuguese: use the stock one in the tenant's language.
            template = text("greeting", self._state.lang, business="{business}")
        # Admins write the greeting: only {business} is a placeholder, other braces are text.
        greeting = template.replace("{business}", self._state.tenant.name)
        self.session.say(greeting, add_to_chat_ctx=True)

    # -- helpers -------------------------------------------------------------------------

    @staticmethod
    def _item(state: CallState, item_id: str) -> MenuItem:
        item = state.index.get(item_id)
        if item is None:
            raise ToolError(text("unknown_item", state.lang) + f" [{item_id}]")
        return item

    @staticmethod
    def _cart_lines(state: CallState, item: MenuItem, option_id: str | None) -> list[CartLine]:
        """The lines a remove/change names; a ToolError when the item is not in the order."""
        lines = state.lines_for(item.item_id, option_id)
        if not lines:
            raise ToolError(text("not_in_cart", state.lang, name=item.name))
        return lines

    @staticmethod
    def _sellable_option(
        state: CallState, item: MenuItem, option_id: str | None
    ) -> MenuOption | None:
        lang = state.lang
        options = prompts.join_names([o.name for o in item.options if o.available], lang)
        option = state.index.option(item, option_id)
        if item.sellable and option_id is None and item.options:
            raise ToolError(text("needs_option", lang, name=item.name, options=options))
        if item.sellable and option_id is not None and option is None:
            raise ToolError(text("unknown_option", lang, name=item.name, options=options))
        if not item.sellable or (option is not None and not option.available):
            message = text("sold_out", lang, name=_display_name(item, option))
            alternative = state.index.alternative_for(item)
            if alternative is not None:
                message += text(
                    "sold_out_alternative",
                    lang,
                    alternative=f"{alternative.name} [{alternative.item_id}]",
                    price=money(alternative.price_cents, lang, state.index.currency),
                )
            raise ToolError(message)
        return option

    @staticmethod
    def _check_quantity(state: CallState, quantity: int) -> None:
        if not 1 <= quantity <= MAX_QUANTITY:
            raise ToolError(text("bad_quantity", state.lang, max=MAX_QUANTITY))

    @staticmethod
    def _check_stock(state: CallState, item: MenuItem, wanted_total: int) -> None:
        if item.stock is not None and wanted_total > item.stock:
            raise ToolError(text("not_enough_stock", state.lang, stock=item.stock, name=item.name))

    @staticmethod
    def _unlocked(state: CallState) -> None:
        if state.order is not None:
            raise ToolError(text("order_locked", state.lang))

    # -- tools ---------------------------------------------------------------------------

    @function_tool
    async def search_menu(self, context: RunContext[CallState], query: str) -> str:
        """Search the menu by words the caller used (empty query lists the menu).

        Args:
            query: what the caller asked for, e.g. "pizza de calabresa" or "drinks".
        """
        state = context.userdata
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

    @function_tool
    async def describe_item(self, context: RunContext[CallState], item_id: str) -> str:
        """Describe one menu item: price, description and sizes.

        Args:
            item_id: the menu id of the item.
        """
        state = context.userdata
        lang = state.lang
        item = self._item(state, item_id)
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
                self._sellable_option(state, item, None)
            except ToolError as sold_out:
                return sold_out.message
        return text(
            "describe",
            lang,
            name=item.name,
            price=money(item.price_cents, lang, state.index.currency),
            description=description,
            options=options,
        )

    @function_tool
    async def add_item(
        self,
        context: RunContext[CallState],
        item_id: str,
        quantity: int = 1,
        option_id: str | None = None,
    ) -> str:
        """Add an item to the order. Prices are computed by the system.

        Args:
            item_id: the menu id of the item.
            quantity: how many (1-50).
            option_id: the menu id of the size/variant, when the item has options.
        """
        state = context.userdata
        self._unlocked(state)
        item = self._item(state, item_id)
        self._check_quantity(state, quantity)
        if option_id is None and item.options and item.sellable:
            state.pending_size = (item.item_id, quantity)  # "which size?" comes next
        option = self._sellable_option(state, item, option_id)
        state.pending_size = None
        line = state.line_for(item.item_id, option.option_id if option else None)
        already = sum(ln.quantity for ln in state.lines_for(item.item_id))
        self._check_stock(state, item, already + quantity)
        if line is None:
            line = CartLine(item.item_id, option.option_id if option else None, 0)
            state.cart.append(line)
        line.quantity += quantity
        state.awaiting = None
        return (
            text("added", state.lang, line=_line_text(state, item, option, quantity))
            + " "
            + text("anything_else", state.lang)
        )

    @function_tool
    async def remove_item(
        self, context: RunContext[CallState], item_id: str, option_id: str | None = None
    ) -> str:
        """Remove an item from the order (every size of it unless option_id is given).

        Args:
            item_id: the menu id of the item.
            option_id: only remove this size/variant.
        """
        state = context.userdata
        self._unlocked(state)
        item = self._item(state, item_id)
        doomed = self._cart_lines(state, item, option_id)
        state.cart = [ln for ln in state.cart if ln not in doomed]
        state.awaiting = None
        return text("removed", state.lang, name=item.name) + " " + text("anything_else", state.lang)

    @function_tool
    async def change_item(
        self,
        context: RunContext[CallState],
        item_id: str,
        quantity: int | None = None,
        option_id: str | None = None,
        new_option_id: str | None = None,
    ) -> str:
        """Change the quantity and/or the size of an item already in the order.

        Args:
            item_id: the menu id of the item in the order.
            quantity: the new total quantity (0 removes it); omit to keep it.
            option_id: which size line to change, when the item is in the order in two sizes.
            new_option_id: the new size/variant id; omit to keep it.
        """
        state = context.userdata
        self._unlocked(state)
        item = self._item(state, item_id)
        lines = self._cart_lines(state, item, option_id)
        if len(lines) > 1:
            names = [o.name for o in item.options if o.option_id in {ln.option_id for ln in lines}]
            raise ToolError(
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
        self._check_quantity(state, new_quantity)
        target_option_id = new_option_id if new_option_id is not None else line.option_id
        option = self._sellable_option(state, item, target_option_id)
        others = sum(ln.quantity for ln in state.lines_for(item.item_id) if ln is not line)
        self._check_stock(state, item, others + new_quantity)
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
        return text("changed", state.lang, line=_line_text(state, item, option, final))

    @function_tool
    async def read_back_cart(self, context: RunContext[CallState]) -> str:
        """Read the order back with the system's total, then ask what is still missing."""
        state = context.userdata
        if state.order is not None:
            return _already_confirmed(state, state.order)
        if not state.cart:
            return text("cart_empty", state.lang)
        if state.fulfilment is None:
            state.awaiting = "fulfilment"
            follow = text("ask_fulfilment", state.lang)
        else:
            state.awaiting = "confirmation"
            follow = text("ask_confirm", state.lang)
        return cart_text(state) + " " + follow

    @function_tool
    async def set_fulfilment(
        self,
        context: RunContext[CallState],
        method: Literal["pickup", "delivery"],
        address: str | None = None,
    ) -> str:
        """Record whether the order is picked up or delivered (delivery needs the address).

        Args:
            method: "pickup" or "delivery".
            address: the full delivery address, required for delivery.
        """
        state = context.userdata
        self._unlocked(state)
        if method == "delivery":
            if not address or len(address.strip()) < 5:
                state.fulfilment = None
                state.awaiting = "address"
                raise ToolError(text("ask_address", state.lang))
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

    @function_tool
    async def confirm_order(self, context: RunContext[CallState]) -> str:
        """Place the order after the caller said yes to the read-back. Safe to call twice."""
        state = context.userdata
        lang = state.lang
        async with state.confirm_lock:  # two confirmations in one turn publish once
            if state.order is not None:
                return _already_confirmed(state, state.order)
            if not state.cart:
                raise ToolError(text("cart_empty", lang))
            if state.fulfilment is None:
                state.awaiting = "fulfilment"
                raise ToolError(text("confirm_needs_fulfilment", lang))
            for line in state.cart:  # a menu item may have sold out since it was added
                self._sellable_option(state, self._item(state, line.item_id), line.option_id)
            lines = price_lines(state)
            total = sum(ln.line_total_cents for ln in lines)
            order_id, number = state.order_identity()
            event = OrderPlaced(
                event_id=order_id,  # stable: consumers dedupe a re-published order
                tenant_id=state.tenant.tenant_id,
                correlation_id=state.correlation_id,
                order_id=order_id,
                call_id=state.call_id,
                lines=lines,
                total_cents=total,
                fulfilment=state.fulfilment,
                delivery_address=state.address,
                customer_phone=state.caller_number,
            )
            try:
                await asyncio.to_thread(state.services.publisher.publish, [event])
            except DependencyUnavailable as exc:
                logger.error(
                    "order publish failed", extra={"call_id": state.call_id, "error": str(exc)}
                )
                raise ToolError(text("order_failed", lang)) from exc
            state.order = PlacedOrder(order_id=order_id, number=number, total_cents=total)
            state.outcome = "ordered"
            state.awaiting = None
            logger.info(
                "order placed",
                extra={"call_id": state.call_id, "order_id": order_id, "total_cents": total},
            )
            return text(
                "confirmed", lang, number=number, total=money(total, lang, state.index.currency)
            )

    @function_tool
    async def transfer_to_human(self, context: RunContext[CallState]) -> str:
        """Transfer the caller to a person at the business (when they ask for one)."""
        state = context.userdata
        number = state.agent_config.transfer_number
        if not number:
            return text("no_transfer", state.lang)
        try:
            await state.services.transferer.transfer(
                room_name=state.room_name,
                participant_identity=state.participant_identity or "",
                to_number=number,
            )
        except Exception as exc:
            logger.warning("transfer failed", extra={"call_id": state.call_id, "error": str(exc)})
            return text("transfer_failed", state.lang)
        if state.outcome == "in_progress":
            state.outcome = "transferred"
        return text("transferring", state.lang)

    @function_tool
    async def end_call(self, context: RunContext[CallState]) -> str:
        """End the call after saying goodbye (the caller is done, or the order is confirmed)."""
        state = context.userdata
        if state.outcome == "in_progress":
            state.outcome = "ordered" if state.order else "ended_without_order"
        session = context.session
        # The goodbye reuses this speech handle, so closing after it plays never cuts it off.
        context.speech_handle.add_done_callback(lambda _: session.shutdown(drain=True))
        return text("goodbye", state.lang)


class RefusalAgent(Agent):
    """Says why the call cannot be served (suspended, closed, after hours) and hangs up."""

    def __init__(self, state: CallState) -> None:
        super().__init__(instructions="Say the message and end the call.")
        self._state = state

    async def on_enter(self) -> None:
        handle = self.session.say(self._state.refusal or "", add_to_chat_ctx=True)
        session = self.session
        handle.add_done_callback(lambda _: session.shutdown(drain=True))
