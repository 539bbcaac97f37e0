"""The offline brain's dialogue, channel-neutral, and a driver for text channels.

:func:`plan_reply` is what the brain does at each step of a turn: with no tool result yet
it asks :func:`~atende_shared.ordering.understand.interpret` for the tool calls (or a
sentence) that the customer's words call for; once results came back it speaks them (menu
ids in ``[brackets]`` stripped) and, when the flow calls for it, makes the next call — the
read-back after "that's all", the goodbye after a confirmed order. The LiveKit adapter
(``voice_fargate.brain``) feeds it from the ``ChatContext``; :func:`respond` runs a whole
turn for a text channel (WhatsApp) without livekit, executing the tools through
:func:`run_tool`. It never computes a price: amounts come from the tools' own sentences.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from atende_shared.ordering import tools
from atende_shared.ordering.catalog import normalise
from atende_shared.ordering.prompts import text
from atende_shared.ordering.state import EventPublisher, OrderState
from atende_shared.ordering.understand import ToolCall, detect_language, interpret

_BRACKETS = re.compile(r"\s*\[[^\]]*\]")
MODEL_NAME = "atende-offline-brain-1"
#: add → speak; confirm → speak + end → goodbye: a turn needs a few tool steps.
MAX_TOOL_STEPS = 5
_QUESTIONS = frozenset({"fulfilment", "address", "neighbourhood", "payment", "change", "name"})
#: Turns in a row not understood before the brain offers a person.
MAX_MISUNDERSTOOD = 3


def follow_language(user_text: str, state: OrderState) -> None:
    """Answer in the customer's language when the tenant serves more than one."""
    allowed = state.allowed_langs
    if len(allowed) < 2:
        return
    detected = detect_language(normalise(user_text).split())
    if detected == "en" and "en" in allowed:
        state.spoken_lang = "en"
    elif detected == "pt" and "pt" in allowed:
        state.spoken_lang = "pt"


def speakable(sentence: str) -> str:
    """A tool result without the ``[menu-id]`` annotations meant for a real LLM."""
    return _BRACKETS.sub("", sentence).strip()


@dataclass(frozen=True)
class ToolResult:
    name: str
    output: str
    is_error: bool = False


def plan_reply(
    user_text: str,
    state: OrderState,
    *,
    results: list[ToolResult],
    fresh: list[ToolResult],
) -> tuple[str, list[ToolCall]]:
    """What to say and which tools to call next.

    ``results``: every tool result since the customer last spoke; ``fresh``: those not yet
    spoken (after the assistant's last message of this turn)."""
    if not results:
        follow_language(user_text, state)
        understood = interpret(user_text, state)
        if understood.unknown:
            state.misunderstood += 1
            if state.misunderstood >= MAX_MISUNDERSTOOD:
                state.misunderstood = 0
                state.awaiting = "handoff"
                return text("offer_person", state.lang), []
            if state.awaiting in _QUESTIONS and state.order is None:
                # Not an answer to the pending question: ask it again, differently put.
                return text("sorry_again", state.lang) + " " + tools.next_question(state), []
        elif understood.calls:
            state.misunderstood = 0
        if understood.say is not None:
            if understood.say in ("what_to_change", "what_to_order"):
                state.awaiting = None
            return text(understood.say, state.lang), []
        return "", understood.calls

    called = {r.name for r in results}
    sentences = [speakable(r.output) for r in fresh]
    follow: list[ToolCall] = []
    fresh_ok = {r.name for r in fresh if not r.is_error}
    if "confirm_order" in fresh_ok and state.order is not None and "end_call" not in called:
        follow.append(ToolCall("end_call"))
    elif (
        interpret(user_text, state).done
        and "read_back_cart" not in called
        and state.cart
        and not any(r.is_error for r in fresh)
    ):
        anything_else = text("anything_else", state.lang)
        sentences = [s.replace(anything_else, "").strip() for s in sentences]
        follow.append(ToolCall("read_back_cart"))
    # Several additions in one turn ask "anything else?" once, at the end.
    anything_else = text("anything_else", state.lang)
    if sum(anything_else in s for s in sentences) > 1:
        sentences = [s.replace(anything_else, "").strip() for s in sentences] + [anything_else]
    return " ".join(s for s in sentences if s), follow


async def run_tool(
    state: OrderState,
    call: ToolCall,
    *,
    publisher: EventPublisher,
    hand_off: tools.HandOff | None = None,
    allocate_number: tools.NumberAllocator | None = None,
) -> ToolResult:
    """Execute one tool call against the core; a :class:`~.tools.Refusal` is an error result."""
    args: dict[str, Any] = dict(call.arguments)
    try:
        match call.name:
            case "search_menu":
                out = tools.search_menu(state, str(args.get("query", "")))
            case "describe_item":
                out = tools.describe_item(state, str(args["item_id"]))
            case "add_item":
                out = tools.add_item(state, **args)
            case "remove_item":
                out = tools.remove_item(state, **args)
            case "change_item":
                out = tools.change_item(state, **args)
            case "read_back_cart":
                out = tools.read_back_cart(state)
            case "set_fulfilment":
                out = tools.set_fulfilment(state, **args)
            case "replace_item":
                out = tools.replace_item(state, **args)
            case "set_modifiers":
                out = tools.set_modifiers(state, **args)
            case "set_flavours":
                out = tools.set_flavours(state, **args)
            case "clear_cart":
                out = tools.clear_cart(state)
            case "quote_delivery":
                out = tools.quote_delivery(state, str(args["address"]))
            case "set_payment":
                out = tools.set_payment(state, **args)
            case "set_customer_name":
                out = tools.set_customer_name(state, str(args["name"]))
            case "repeat_last_order":
                out = tools.repeat_last_order(state)
            case "confirm_order":
                out = await tools.confirm_order(state, publisher, allocate_number)
            case "transfer_to_human":
                out = await tools.transfer_to_human(state, hand_off)
            case "end_call":
                out = tools.end_conversation(state)
            case _:
                return ToolResult(call.name, f"unknown tool {call.name}", is_error=True)
    except tools.Refusal as refusal:
        return ToolResult(call.name, refusal.message, is_error=True)
    except (TypeError, KeyError) as exc:  # malformed arguments (an LLM's)
        return ToolResult(call.name, f"invalid arguments: {exc}", is_error=True)
    return ToolResult(call.name, out)


@dataclass
class Reply:
    """One turn's outcome for a text channel."""

    messages: list[str] = field(default_factory=list)
    results: list[ToolResult] = field(default_factory=list)
    ended: bool = False


async def respond(
    state: OrderState,
    user_text: str,
    *,
    publisher: EventPublisher,
    hand_off: tools.HandOff | None = None,
    allocate_number: tools.NumberAllocator | None = None,
) -> Reply:
    """One customer message → the offline brain's replies, tools run against ``state``."""
    reply = Reply()
    fresh: list[ToolResult] = []
    for _ in range(MAX_TOOL_STEPS + 1):
        said, calls = plan_reply(user_text, state, results=reply.results, fresh=fresh)
        if said:
            reply.messages.append(said)
        if not calls:
            break
        fresh = []
        for call in calls:
            result = await run_tool(
                state, call, publisher=publisher, hand_off=hand_off, allocate_number=allocate_number
            )
            fresh.append(result)
            reply.results.append(result)
            reply.ended = reply.ended or (call.name == "end_call" and not result.is_error)
    return reply
