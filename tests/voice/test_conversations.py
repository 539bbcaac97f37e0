"""The conversation suite: every failure class of issue 15 and every new capability, in
pt-BR and English, through the real agent code (text-mode ``AgentSession``, the offline
brain, the LiveKit tools) — generated from the menu, run on two different pizzerias.

Each conversation ends in the exact expected order (items, sizes, flavours, modifiers,
notes, quantities, fulfilment, fee, payment, change, customer name, total computed here
from the menu) or action.
"""

from __future__ import annotations

import pytest

from atende_local.seed import demo_agent_config, demo_menu, demo_tenant
from atende_shared.events import OrderPlaced
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from tests.voice.conftest import FakePublisher, make_state
from tests.voice.conversations import Line, MenuFacts, Scenario, build
from tests.voice.helpers import run, spoken, started, turn
from tests.voice.second_menu import second_menu, second_tenant
from voice_fargate.brain import OfflineBrain

MENUS: dict[str, tuple[Menu, Tenant]] = {
    "demo": (demo_menu(), demo_tenant()),
    "napoli": (second_menu(), second_tenant()),
}
CASES = [(menu, s) for menu, (m, t) in MENUS.items() for s in build(m, t)]


def _lines(order: OrderPlaced) -> list[Line]:
    return [
        Line(
            ln.item_id,
            ln.option_id,
            ln.quantity,
            tuple(f.item_id for f in ln.flavours),
            tuple(m.modifier_id for m in ln.modifiers for _ in range(m.quantity)),
            ln.notes,
        )
        for ln in order.lines
    ]


@pytest.mark.parametrize(("menu_name", "scenario"), CASES, ids=[f"{m}-{s.name}" for m, s in CASES])
def test_conversation(menu_name: str, scenario: Scenario) -> None:
    menu, tenant = MENUS[menu_name]
    if scenario.bilingual:
        tenant = tenant.model_copy(update={"languages": ["pt-BR", "en-US"]})
    facts = MenuFacts(menu, tenant)
    config = AgentConfig(
        tenant_id=tenant.tenant_id,
        language="en-US" if scenario.lang == "en" else "pt-BR",
        transfer_number="+5511999990000",
        greeting=demo_agent_config().greeting,
    )
    state = make_state(menu=menu, tenant=tenant, config=config)
    replies: list[str] = []

    # Given the tenant's menu, when the caller says each line
    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            for line in scenario.lines:
                if state.outcome != "in_progress" and state.order is None:
                    break
                replies.extend(spoken(await turn(session, line)))

    run(body())
    publisher = state.services.publisher
    assert isinstance(publisher, FakePublisher)
    orders = [e for e in publisher.events if isinstance(e, OrderPlaced)]
    expected = scenario.expected
    transcript = "\n".join(replies)
    for fragment in expected.said:
        if fragment != "@alternative":
            assert fragment in transcript, transcript

    # Then the outcome is exactly the one expected
    if expected.action == "transferred":
        assert state.outcome == "transferred", transcript
        assert orders == []
        return
    assert len(orders) == 1, transcript
    (order,) = orders
    if "@alternative" in expected.said:
        sold = facts.sold_out
        assert sold is not None
        (line,) = _lines(order)
        offered = next(i for i in menu.items if i.item_id == line.item_id)
        assert offered.category == sold.category
        assert offered.item_id != sold.item_id
        assert line.option_id == (sold.options[0].option_id if sold.options else None)
        expected.lines = [line]
    assert _lines(order) == expected.lines, transcript
    assert order.fulfilment == expected.fulfilment
    assert order.delivery_fee_cents == expected.fee_cents
    assert order.total_cents == facts.total(expected), transcript
    assert order.subtotal_cents == order.total_cents - order.delivery_fee_cents
    assert order.payment is not None
    assert (order.payment.method, order.payment.change_for_cents) == (
        expected.payment,
        expected.change_cents,
    )
    assert order.customer_name == expected.name
    if expected.fulfilment == "delivery":
        assert order.address is not None
        assert order.address.raw
    assert state.outcome == "ordered"
