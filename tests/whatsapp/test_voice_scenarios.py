"""The voice conversation suite's scenarios that make sense in text (tests/voice/test_brain.py),
run over the WhatsApp channel: the same lines through webhook-shaped messages end in the
same cart, the same order and the same total, on the same ordering core."""

from __future__ import annotations

import importlib.util

import pytest

from atende_shared.models.tenant import AgentConfig
from functions.orders.logic.conversation import handle_message
from tests.voice.conftest import menu_en, menu_pt
from tests.whatsapp.chat_fakes import CUSTOMER, World, zapi

#: The generated suite (``tests/voice/conversations.py``) supersedes these hand-picked
#: scenarios where it exists: ``test_conversation_suite.py`` runs all of it.
pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("tests.voice.conversations") is not None,
    reason="the generated conversation suite runs instead (test_conversation_suite.py)",
)

SCENARIOS = {
    "pt-order-with-corrections": (
        "pt-BR",
        [
            "oi, quero duas pizzas de calabresa grandes e três cocas",
            "na verdade, sem coca",
            "e uma guaraná",
            "tira o guaraná",
            "mais uma margherita broto",
            "quero uma lasanha",
            "só isso",
            "entrega na Rua das Flores, 123",
            "sim",
        ],
        [("pizza-calabresa", "grande", 2), ("pizza-margherita", "broto", 1)],
        (2 * 4_990 + 3_490, "delivery", "Rua das Flores, 123"),
    ),
    "pt-quantity-and-size-corrections": (
        "pt-BR",
        [
            "uma calabresa média e meia dúzia de águas",
            "na verdade, são três calabresas",
            "muda a calabresa para grande",
            "quero 2 guaranás",
        ],
        [("pizza-calabresa", "grande", 3), ("agua-sem-gas", None, 6), ("guarana-lata", None, 2)],
        None,
    ),
    "en-order-with-corrections-sold-out-unknown": (
        "en-US",
        [
            "hi, I'd like two large pepperoni pizzas, three cokes and a garlic bread",
            "actually, no coke",
            "make it one pepperoni",
            "can I get a veggie pizza",
            "do you have lasagna",
            "that's all",
            "pickup please",
            "yes",
        ],
        [("pepperoni", "large", 1), ("garlic-bread", None, 1)],
        (3_900 + 800, "pickup", None),
    ),
    "en-items-and-thats-all-in-one-message": (
        "en-US",
        ["2 lemonades and twelve cokes, that's all"],
        [("lemonade", None, 2), ("coke", None, 12)],
        None,
    ),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_voice_scenarios_over_whatsapp(name: str) -> None:
    language, lines, cart, order = SCENARIOS[name]
    world = World()
    world.tenants.menu = menu_pt() if language.startswith("pt") else menu_en()
    world.tenants.config = AgentConfig(tenant_id="demo-pizzaria", language=language)
    outcomes = [handle_message(zapi(line), world.deps()) for line in lines]
    assert len(world.gateway.texts()) == len(lines)  # one reply per message
    session = world.store.get_session("demo-pizzaria", CUSTOMER)
    assert session is not None
    got = [(ln["item_id"], ln["option_id"], ln["quantity"]) for ln in session.state["cart"]]
    assert got == cart
    if order is None:
        assert world.publisher.orders == []
        return
    assert outcomes[-1] == "ordered"
    [placed] = world.publisher.orders
    assert (placed.total_cents, placed.fulfilment, placed.delivery_address) == order
    assert placed.channel == "whatsapp"


@pytest.mark.parametrize(
    ("language", "line"),
    [
        ("pt-BR", "quero falar com um atendente, por favor"),
        ("en-US", "can I talk to a real person?"),
    ],
)
def test_a_person_request_hands_off_in_both_languages(language: str, line: str) -> None:
    world = World()
    world.tenants.config = AgentConfig(tenant_id="demo-pizzaria", language=language)
    assert handle_message(zapi(line), world.deps()) == "handed_off"
    assert world.store.get_pause("demo-pizzaria", CUSTOMER) is not None
