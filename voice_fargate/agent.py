"""The LiveKit adapter of the ordering core: the ``Agent``, its greeting and its tools.

Each ``function_tool`` calls the channel-neutral tool of the same name in
:mod:`atende_shared.ordering.tools` (which owns the semantics and every price) and turns
its :class:`~atende_shared.ordering.tools.Refusal` into the framework's ``ToolError``, a
sentence the LLM — or the offline brain — can say. Only what is phone-specific lives here:
the SIP transfer and hanging up after the goodbye.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal, TypeVar

from livekit.agents import Agent, RunContext, ToolError, function_tool

from atende_shared.models.tenant import AgentConfig
from atende_shared.ordering import prompts, tools
from atende_shared.ordering.customers import remember
from atende_shared.ordering.pricing import cart_total, price_lines
from atende_shared.ordering.prompts import text
from voice_fargate.state import CallState

__all__ = ["OrderingAgent", "RefusalAgent", "cart_total", "price_lines"]

T = TypeVar("T")


def _core(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except tools.Refusal as refusal:
        raise ToolError(refusal.message) from None


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
        if self._state.customer_name:  # a returning caller, recognised by phone
            greeting = text("welcome_back", self._state.lang, name=self._state.customer_name)
        self.session.say(greeting, add_to_chat_ctx=True)

    @function_tool
    async def search_menu(self, context: RunContext[CallState], query: str) -> str:
        """Search the menu by words the caller used (empty query lists the menu).

        Args:
            query: what the caller asked for, e.g. "pizza de calabresa" or "drinks".
        """
        return _core(lambda: tools.search_menu(context.userdata, query))

    @function_tool
    async def describe_item(self, context: RunContext[CallState], item_id: str) -> str:
        """Describe one menu item: price, description and sizes.

        Args:
            item_id: the menu id of the item.
        """
        return _core(lambda: tools.describe_item(context.userdata, item_id))

    @function_tool
    async def add_item(
        self,
        context: RunContext[CallState],
        item_id: str,
        quantity: int = 1,
        option_id: str | None = None,
        flavour_ids: list[str] | None = None,
        modifier_ids: list[str] | None = None,
        notes: str | None = None,
    ) -> str:
        """Add an item to the order. Prices are computed by the system.

        Args:
            item_id: the menu id of the item (for a half-and-half pizza, the first flavour).
            quantity: how many (1-50).
            option_id: the menu id of the size/variant, when the item has options.
            flavour_ids: the other flavours' menu ids of a half-and-half pizza.
            modifier_ids: chosen modifier ids (crust, extras).
            notes: the customer's note for this item, e.g. "sem cebola".
        """
        return _core(
            lambda: tools.add_item(
                context.userdata, item_id, quantity, option_id, flavour_ids, modifier_ids, notes
            )
        )

    @function_tool
    async def remove_item(
        self,
        context: RunContext[CallState],
        item_id: str,
        option_id: str | None = None,
        quantity: int | None = None,
    ) -> str:
        """Remove an item from the order (every size of it unless option_id is given).

        Args:
            item_id: the menu id of the item.
            option_id: only remove this size/variant.
            quantity: remove only this many (e.g. one of three).
        """
        return _core(lambda: tools.remove_item(context.userdata, item_id, option_id, quantity))

    @function_tool
    async def replace_item(
        self,
        context: RunContext[CallState],
        item_id: str,
        new_item_id: str,
        new_option_id: str | None = None,
    ) -> str:
        """Swap an item in the order for another ("troca X por Y"), keeping the quantity.

        Args:
            item_id: the menu id of the item in the order.
            new_item_id: the menu id of the item that replaces it.
            new_option_id: the size of the new item, when it differs.
        """
        return _core(
            lambda: tools.replace_item(context.userdata, item_id, new_item_id, new_option_id)
        )

    @function_tool
    async def set_modifiers(
        self,
        context: RunContext[CallState],
        item_id: str,
        modifier_ids: list[str] | None = None,
        notes: str | None = None,
    ) -> str:
        """Add modifiers (crust, extras) and/or a note to the latest line of an item.

        Args:
            item_id: the menu id of the item in the order.
            modifier_ids: modifier ids from the item's modifier groups.
            notes: a short note, e.g. "bem assada".
        """
        return _core(lambda: tools.set_modifiers(context.userdata, item_id, modifier_ids, notes))

    @function_tool
    async def set_flavours(
        self, context: RunContext[CallState], item_id: str, flavour_ids: list[str]
    ) -> str:
        """Make the latest pizza of item_id half-and-half with these other flavours.

        Args:
            item_id: the menu id of the pizza in the order (its first flavour).
            flavour_ids: the other flavours' menu ids.
        """
        return _core(lambda: tools.set_flavours(context.userdata, item_id, flavour_ids))

    @function_tool
    async def clear_cart(self, context: RunContext[CallState]) -> str:
        """Remove everything from the order ("cancela tudo"); the call goes on."""
        return _core(lambda: tools.clear_cart(context.userdata))

    @function_tool
    async def quote_delivery(self, context: RunContext[CallState], address: str) -> str:
        """Say the delivery fee, minimum order and time for an address (sets nothing).

        Args:
            address: the address in the caller's words, with neighbourhood or CEP.
        """
        return _core(lambda: tools.quote_delivery(context.userdata, address))

    @function_tool
    async def set_payment(
        self,
        context: RunContext[CallState],
        method: Literal["cash", "credit_card", "debit_card", "card", "pix"],
        change_for_cents: int | None = None,
    ) -> str:
        """Record how the customer pays on delivery or pickup.

        Args:
            method: cash, credit_card, debit_card, card (unspecified) or pix.
            change_for_cents: cash only: the note the customer pays with, in cents.
        """
        return _core(lambda: tools.set_payment(context.userdata, method, change_for_cents))

    @function_tool
    async def set_customer_name(self, context: RunContext[CallState], name: str) -> str:
        """Record the customer's name for the order.

        Args:
            name: the name the customer gave.
        """
        return _core(lambda: tools.set_customer_name(context.userdata, name))

    @function_tool
    async def repeat_last_order(self, context: RunContext[CallState]) -> str:
        """Add a returning customer's last order, re-priced from today's menu."""
        return _core(lambda: tools.repeat_last_order(context.userdata))

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
        return _core(
            lambda: tools.change_item(context.userdata, item_id, quantity, option_id, new_option_id)
        )

    @function_tool
    async def read_back_cart(self, context: RunContext[CallState]) -> str:
        """Read the order back with the system's total, then ask what is still missing."""
        return _core(lambda: tools.read_back_cart(context.userdata))

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
        return _core(lambda: tools.set_fulfilment(context.userdata, method, address))

    @function_tool
    async def confirm_order(self, context: RunContext[CallState]) -> str:
        """Place the order after the caller said yes to the read-back. Safe to call twice."""
        state = context.userdata
        try:
            confirmed = await tools.confirm_order(
                state, state.services.publisher, state.services.allocate_number
            )
        except tools.Refusal as refusal:
            raise ToolError(refusal.message) from None
        await asyncio.to_thread(remember, state, state.services.customers)
        return confirmed

    @function_tool
    async def transfer_to_human(self, context: RunContext[CallState]) -> str:
        """Transfer the caller to a person at the business (when they ask for one)."""
        state = context.userdata
        number = state.agent_config.transfer_number

        async def sip_transfer() -> None:
            assert number is not None
            await state.services.transferer.transfer(
                room_name=state.room_name,
                participant_identity=state.participant_identity or "",
                to_number=number,
            )

        return await tools.transfer_to_human(state, sip_transfer if number else None)

    @function_tool
    async def end_call(self, context: RunContext[CallState]) -> str:
        """End the call after saying goodbye (the caller is done, or the order is confirmed)."""
        goodbye = tools.end_conversation(context.userdata)
        session = context.session
        # The goodbye reuses this speech handle, so closing after it plays never cuts it off.
        context.speech_handle.add_done_callback(lambda _: session.shutdown(drain=True))
        return goodbye


class RefusalAgent(Agent):
    """Says why the call cannot be served (suspended, closed, after hours) and hangs up."""

    def __init__(self, state: CallState) -> None:
        super().__init__(instructions="Say the message and end the call.")
        self._state = state

    async def on_enter(self) -> None:
        handle = self.session.say(self._state.refusal or "", add_to_chat_ctx=True)
        session = self.session
        handle.add_done_callback(lambda _: session.shutdown(drain=True))
