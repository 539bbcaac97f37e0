"""The LLM path of a WhatsApp turn: OpenAI's chat completions API with function calling,
over plain httpx (no SDK, no livekit: the Lambda package stays small).

The tools are the ordering core's (:mod:`atende_shared.ordering.tools`), executed through
the core's :func:`~atende_shared.ordering.dialogue.run_tool`, and their JSON schemas are
derived from the core functions' own signatures (menu ids, quantities, sizes — never a
price), so the voice agent and this channel offer the same tools with the same arguments.
Any failure (no key, HTTP error, timeout, a malformed answer, too many tool rounds) raises
:class:`LLMUnavailable`; the caller then runs the offline brain on the state as it was
before the turn.
"""

from __future__ import annotations

import collections.abc
import inspect
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import UnionType
from typing import Any

import httpx
from pydantic import create_model

from atende_shared.ordering import tools
from atende_shared.ordering.dialogue import run_tool
from atende_shared.ordering.prompts import system_instructions
from atende_shared.ordering.state import EventPublisher, OrderState
from atende_shared.ordering.understand import ToolCall
from functions.orders.models.whatsapp import ChatTurn

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
MAX_TOOL_ROUNDS = 6

#: The tools, named as the voice agent names them; each is the core function of that name
#: (``end_call`` is the core's ``end_conversation``). Names the core does not have (yet)
#: are left out, so the list can lead the core by a release.
TOOL_NAMES = (
    "search_menu",
    "describe_item",
    "add_item",
    "remove_item",
    "replace_item",
    "set_modifiers",
    "set_flavours",
    "clear_cart",
    "quote_delivery",
    "set_payment",
    "set_customer_name",
    "repeat_last_order",
    "change_item",
    "read_back_cart",
    "set_fulfilment",
    "confirm_order",
    "transfer_to_human",
    "end_call",
)
_FUNCTION_OF = {"end_call": "end_conversation"}


def _core_tools() -> dict[str, Callable[..., Any]]:
    found = {}
    for name in TOOL_NAMES:
        function = getattr(tools, _FUNCTION_OF.get(name, name), None)
        if callable(function):
            found[name] = function
    return found


#: What the model is told of each tool (the voice agent tells it the same in its tools'
#: docstrings); a tool without an entry is described by its core docstring.
DESCRIPTIONS = {
    "search_menu": "Search the menu by the customer's words (an empty query lists the menu).",
    "describe_item": "Describe one menu item: price, description, sizes and options.",
    "add_item": "Add an item to the order by menu id (option_id: the size's id). Prices are "
    "computed by the system.",
    "remove_item": "Remove an item from the order (every size unless option_id is given).",
    "replace_item": "Swap an item in the order for another one.",
    "set_modifiers": "Set an order line's modifiers (crust, extras) by their ids.",
    "set_flavours": "Make a pizza half-and-half: the flavours' menu ids.",
    "clear_cart": "Empty the order (the customer starts over).",
    "quote_delivery": "Check a delivery address: zone, fee and minimum order.",
    "set_payment": "Record how the customer pays (and the change needed for cash).",
    "set_customer_name": "Record the customer's name for the order.",
    "repeat_last_order": "Put the customer's previous order in the cart again.",
    "change_item": "Change the quantity and/or size (new_option_id) of an item in the order.",
    "read_back_cart": "Read the order back with the system's total, then ask what is missing.",
    "set_fulfilment": "Record pickup or delivery (delivery needs the full address).",
    "confirm_order": "Place the order after the customer said yes to the read-back. Safe to "
    "call twice.",
    "transfer_to_human": "Hand the conversation to a person at the business (when the "
    "customer asks for one).",
    "end_call": "Say goodbye once the customer is done or the order is confirmed.",
}


def _description(name: str, function: Callable[..., Any]) -> str:
    if name in DESCRIPTIONS:
        return DESCRIPTIONS[name]
    doc = inspect.getdoc(function) or name.replace("_", " ")
    return " ".join(doc.split("\n\n", 1)[0].split())[:1_000]


_RUNTIME_PARAMETERS = frozenset({"state", "publisher", "hand_off", "allocate_number"})


def _is_hook(hint: Any) -> bool:
    """Whether a parameter is a callable the conversation passes (an allocator, a hand-off),
    possibly optional: no JSON schema, and nothing a model could provide."""
    options = (
        typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, UnionType) else (hint,)
    )
    return any(
        typing.get_origin(option) is collections.abc.Callable or option is collections.abc.Callable
        for option in options
    )


@cache
def tool_schemas() -> list[dict[str, Any]]:
    """OpenAI ``tools`` for the core's tools, from their signatures."""
    schemas = []
    for name, function in _core_tools().items():
        description = _description(name, function)
        hints = typing.get_type_hints(function)
        fields: dict[str, Any] = {}
        for parameter in inspect.signature(function).parameters.values():
            if parameter.name in _RUNTIME_PARAMETERS or _is_hook(hints.get(parameter.name)):
                continue  # the conversation's own objects, never the model's to pass
            default = ... if parameter.default is inspect.Parameter.empty else parameter.default
            fields[parameter.name] = (hints[parameter.name], default)
        model = create_model(f"{name}_arguments", **fields)
        parameters = model.model_json_schema()
        parameters.pop("title", None)
        for prop in parameters.get("properties", {}).values():
            prop.pop("title", None)
        schemas.append(
            {
                "type": "function",
                "function": {"name": name, "description": description, "parameters": parameters},
            }
        )
    return schemas


class LLMUnavailable(Exception):
    """The LLM could not produce this turn; use the offline brain."""


@dataclass(frozen=True)
class OpenAIChat:
    api_key: str
    model: str = "gpt-4o-mini"
    timeout_seconds: float = 12.0
    url: str = OPENAI_URL

    def complete(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        """One chat completion (the assistant message), or :class:`LLMUnavailable`."""
        try:
            response = _client().post(
                self.url,
                json={
                    "model": self.model,
                    "messages": messages,
                    "tools": tool_schemas(),
                    "temperature": 0.2,
                },
                headers={"Authorization": f"Bearer {self.api_key}"},
                timeout=self.timeout_seconds,
            )
        except httpx.HTTPError as exc:
            raise LLMUnavailable(f"openai unreachable: {exc!r}") from exc
        if not response.is_success:
            raise LLMUnavailable(f"openai answered {response.status_code}: {response.text[:200]}")
        try:
            message = response.json()["choices"][0]["message"]
        except (ValueError, KeyError, IndexError, TypeError) as exc:
            raise LLMUnavailable("openai answer has no message") from exc
        if not isinstance(message, dict):
            raise LLMUnavailable("openai answer has no message")
        return message


@cache
def _client() -> httpx.Client:
    return httpx.Client()


def _system(state: OrderState) -> str:
    extra = (
        "You are answering on WhatsApp (text), not on the phone: keep replies short, plain "
        "text. " + state.agent_config.instructions
    )
    return system_instructions(state.lang, business=state.tenant.name, extra=extra)


async def llm_turn(
    chat: OpenAIChat,
    state: OrderState,
    history: list[ChatTurn],
    user_text: str,
    *,
    publisher: EventPublisher,
    hand_off: tools.HandOff | None,
    options: dict[str, Any] | None = None,
) -> list[str]:
    """One customer message through the LLM with the core's tools; the replies to send."""
    messages: list[dict[str, Any]] = [{"role": "system", "content": _system(state)}]
    messages += [turn.model_dump() for turn in history]
    messages.append({"role": "user", "content": user_text})
    for _ in range(MAX_TOOL_ROUNDS):
        answer = chat.complete(messages)
        calls = answer.get("tool_calls") or []
        if not calls:
            content = answer.get("content")
            if not isinstance(content, str) or not content.strip():
                raise LLMUnavailable("openai answered neither text nor tool calls")
            return [content.strip()]
        messages.append(
            {"role": "assistant", "content": answer.get("content"), "tool_calls": calls}
        )
        for call in calls:
            function = call.get("function") or {}
            try:
                arguments = json.loads(function.get("arguments") or "{}")
            except ValueError:
                arguments = None
            if not isinstance(arguments, dict):
                output = "invalid arguments: not a JSON object"
            else:
                result = await run_tool(
                    state,
                    ToolCall(str(function.get("name")), arguments),
                    publisher=publisher,
                    hand_off=hand_off,
                    **(options or {}),
                )
                output = result.output
            messages.append({"role": "tool", "tool_call_id": call.get("id"), "content": output})
    raise LLMUnavailable(f"no answer after {MAX_TOOL_ROUNDS} tool rounds")
