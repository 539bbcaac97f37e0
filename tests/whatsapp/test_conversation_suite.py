"""The voice conversation suite (``tests/voice/conversations.py``: generated from the menu,
every failure class and capability, pt-BR and English, two pizzerias) run over the WhatsApp
channel: each customer line is a Z-API delivery through the conversation logic, and each
conversation ends in exactly the order the voice suite expects, or the same action."""

from __future__ import annotations

import pytest

from atende_local.seed import demo_agent_config
from atende_shared.events import OrderPlaced
from atende_shared.models.tenant import AgentConfig
from functions.orders.logic.conversation import handle_message
from tests.voice import conversations as suite
from tests.voice import test_conversations as voice
from tests.voice.conversations import Scenario
from tests.whatsapp.chat_fakes import World, zapi

CASES = voice.CASES


@pytest.mark.parametrize(("menu_name", "scenario"), CASES, ids=[f"{m}-{s.name}" for m, s in CASES])
def test_the_conversation_suite_over_whatsapp(menu_name: str, scenario: Scenario) -> None:
    menu, tenant = voice.MENUS[menu_name]
    if scenario.bilingual:
        tenant = tenant.model_copy(update={"languages": ["pt-BR", "en-US"]})
    facts = suite.MenuFacts(menu, tenant)
    world = World()
    world.tenants.tenant = tenant.model_copy(update={"tenant_id": "demo-pizzaria"})
    world.tenants.menu = menu
    world.tenants.config = AgentConfig(
        tenant_id="demo-pizzaria",
        language="en-US" if scenario.lang == "en" else "pt-BR",
        transfer_number="+5511999990000",
        greeting=demo_agent_config().greeting,
    )
    outcomes = []
    for line in scenario.lines:
        outcomes.append(handle_message(zapi(line), world.deps()))
        if outcomes[-1] in ("handed_off", "ordered"):
            break
    transcript = "\n".join(world.gateway.texts())
    expected = scenario.expected
    for fragment in expected.said:
        if fragment != "@alternative":
            assert fragment in transcript, transcript
    orders: list[OrderPlaced] = world.publisher.orders
    if expected.action == "transferred":
        assert outcomes[-1] == "handed_off", transcript
        assert orders == []
        return
    assert len(orders) == 1, transcript
    (order,) = orders
    lines = voice._lines(order)
    if "@alternative" in expected.said:
        assert facts.sold_out is not None
        assert lines[0].item_id != facts.sold_out.item_id
        expected_lines = lines[:1]
    else:
        expected_lines = expected.lines
    assert lines == expected_lines, transcript
    if "@alternative" not in expected.said:
        assert order.total_cents == facts.total(expected), transcript
    assert order.channel == "whatsapp"
    assert order.fulfilment == expected.fulfilment
    assert order.delivery_fee_cents == expected.fee_cents
    assert order.payment is not None
    assert (order.payment.method, order.payment.change_for_cents) == (
        expected.payment,
        expected.change_cents,
    )
    assert order.customer_name == expected.name
