"""Conversations with the offline brain in Portuguese and English, end to end in text mode.

Each conversation ends in an exact cart, order or action: the brain is deterministic.
"""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import RunResult

from atende_shared.events import OrderPlaced
from atende_shared.ordering.understand import extract_address, interpret
from tests.voice.conftest import FakePublisher, FakeTransferer, make_state
from tests.voice.helpers import closes, run, spoken, started, tool_calls, turn, watch_close
from voice_fargate.brain import OfflineBrain, speakable
from voice_fargate.state import CallState


def _cart(state: CallState) -> list[tuple[str, str | None, int]]:
    return [(ln.item_id, ln.option_id, ln.quantity) for ln in state.cart]


def _orders(state: CallState) -> list[OrderPlaced]:
    publisher = state.services.publisher
    assert isinstance(publisher, FakePublisher)
    return [e for e in publisher.events if isinstance(e, OrderPlaced)]


def test_portuguese_order_with_words_correction_removal_size_and_unknown_item() -> None:
    state = make_state(lang="pt-BR")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            closed = watch_close(session)
            turns: dict[str, RunResult[Any]] = {}
            for line in (
                "oi, quero duas pizzas de calabresa grandes e três cocas",
                "na verdade, sem coca",
                "e uma guaraná",
                "tira o guaraná",
                "mais uma margherita broto",
                "quero uma lasanha",
                "só isso",
                "entrega na Rua das Flores, 123",
                "pix",
                "no nome da Ana",
                "sim",
            ):
                turns[line] = await turn(session, line)
            assert await closes(closed)

        assert tool_calls(turns["oi, quero duas pizzas de calabresa grandes e três cocas"]) == [
            ("add_item", '{"item_id": "pizza-calabresa", "quantity": 2, "option_id": "grande"}'),
            ("add_item", '{"item_id": "coca-cola-2l", "quantity": 3}'),
        ]
        assert tool_calls(turns["na verdade, sem coca"]) == [
            ("remove_item", '{"item_id": "coca-cola-2l"}')
        ]
        assert tool_calls(turns["quero uma lasanha"]) == [("search_menu", '{"query": "lasanha"}')]
        assert "Não temos lasanha no cardápio" in spoken(turns["quero uma lasanha"])[0]
        readback = spoken(turns["só isso"])[0]
        assert "Total R$ 134,70" in readback
        assert "[" not in readback
        # Then the order is exactly what the caller ended up asking for
        assert _cart(state) == [
            ("pizza-calabresa", "grande", 2),
            ("pizza-margherita", "broto", 1),
        ]
        (order,) = _orders(state)
        assert order.total_cents == 2 * 4_990 + 3_490
        assert (order.fulfilment, order.delivery_address) == ("delivery", "Rua das Flores, 123")
        assert (order.customer_name, order.payment and order.payment.method) == ("Ana", "pix")
        said = " ".join(spoken(turns["sim"]))
        assert f"Número {state.order.number if state.order else '?'}" in said
        assert "R$ 134,70" in said
        assert "Até logo" in said
        assert state.outcome == "ordered"

    run(body())


def test_portuguese_quantity_and_size_corrections() -> None:
    state = make_state(lang="pt-BR")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            await turn(session, "uma calabresa média e meia dúzia de águas")
            await turn(session, "na verdade, são três calabresas")
            changed = await turn(session, "muda a calabresa para grande")
            await turn(session, "quero 2 guaranás")
        assert tool_calls(changed) == [
            ("change_item", '{"item_id": "pizza-calabresa", "new_option_id": "grande"}')
        ]
        assert _cart(state) == [
            ("pizza-calabresa", "grande", 3),
            ("agua-sem-gas", None, 6),
            ("guarana-lata", None, 2),
        ]

    run(body())


def test_portuguese_person_request_transfers() -> None:
    state = make_state(lang="pt-BR")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            result = await turn(session, "quero falar com um atendente, por favor")
        assert tool_calls(result) == [("transfer_to_human", "{}")]
        assert "transferir" in spoken(result)[0]

    run(body())
    transferer = state.services.transferer
    assert isinstance(transferer, FakeTransferer)
    assert [t["to"] for t in transferer.transfers] == ["+5511999990000"]
    assert state.outcome == "transferred"


def test_english_order_with_words_correction_removal_sold_out_and_unknown_item() -> None:
    state = make_state(lang="en-US")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            closed = watch_close(session)
            turns: dict[str, RunResult[Any]] = {}
            for line in (
                "hi, I'd like two large pepperoni pizzas, three cokes and a garlic bread",
                "actually, no coke",
                "make it one pepperoni",
                "can I get a veggie pizza",
                "do you have lasagna",
                "that's all",
                "pickup please",
                "card",
                "my name is John",
                "yes",
            ):
                turns[line] = await turn(session, line)
            assert await closes(closed)

        first = "hi, I'd like two large pepperoni pizzas, three cokes and a garlic bread"
        assert [name for name, _ in tool_calls(turns[first])] == ["add_item"] * 3
        assert (
            "Sorry, Veggie Pizza is sold out today. Can I offer you Pepperoni Pizza"
            in (spoken(turns["can I get a veggie pizza"])[0])
        )
        assert tool_calls(turns["do you have lasagna"]) == [("search_menu", '{"query": "lasagna"}')]
        assert _cart(state) == [("pepperoni", "large", 1), ("garlic-bread", None, 1)]
        (order,) = _orders(state)
        assert order.total_cents == 3_900 + 800
        assert order.fulfilment == "pickup"
        assert (order.customer_name, order.payment and order.payment.method) == ("John", "card")
        assert "Order confirmed!" in " ".join(spoken(turns["yes"]))

    run(body())


def test_english_person_request_and_that_is_all_after_items() -> None:
    state = make_state(lang="en-US")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            both = await turn(session, "2 lemonades and twelve cokes, that's all")
            person = await turn(session, "can I talk to a real person?")
        # Then the items are added and the order read back in the same turn
        assert [name for name, _ in tool_calls(both)] == ["add_item", "add_item", "read_back_cart"]
        assert "Total R$ 72.00" in spoken(both)[-1]
        assert tool_calls(person) == [("transfer_to_human", "{}")]

    run(body())
    assert _cart(state) == [("lemonade", None, 2), ("coke", None, 12)]
    assert state.outcome == "transferred"


@pytest.mark.parametrize(
    ("utterance", "lang", "expected"),
    [
        ("quero duas cocas", "pt-BR", [("add_item", {"item_id": "coca-cola-2l", "quantity": 2})]),
        ("três águas", "pt-BR", [("add_item", {"item_id": "agua-sem-gas", "quantity": 3})]),
        (
            "uma dúzia de águas",
            "pt-BR",
            [("add_item", {"item_id": "agua-sem-gas", "quantity": 12})],
        ),
        ("10 cocas", "pt-BR", [("add_item", {"item_id": "coca-cola-2l", "quantity": 10})]),
        (
            "uma água sem gás e uma coca",
            "pt-BR",
            [
                ("add_item", {"item_id": "agua-sem-gas", "quantity": 1}),
                ("add_item", {"item_id": "coca-cola-2l", "quantity": 1}),
            ],
        ),
        (
            "uma quatro queijos broto",
            "pt-BR",
            [
                (
                    "add_item",
                    {"item_id": "pizza-quatro-queijos", "quantity": 1, "option_id": "broto"},
                )
            ],
        ),
        (
            "tira a coca e a água",
            "pt-BR",
            [
                ("remove_item", {"item_id": "coca-cola-2l"}),
                ("remove_item", {"item_id": "agua-sem-gas"}),
            ],
        ),
        ("cardápio", "pt-BR", [("search_menu", {"query": ""})]),
        ("o que vocês têm de bebida?", "pt-BR", [("search_menu", {"query": "bebida"})]),
        ("tem pizza de chocolate?", "pt-BR", [("describe_item", {"item_id": "pizza-chocolate"})]),
        ("do you have garlic bread?", "en-US", [("describe_item", {"item_id": "garlic-bread"})]),
        ("quanto custa a calabresa?", "pt-BR", [("describe_item", {"item_id": "pizza-calabresa"})]),
        ("five cokes", "en-US", [("add_item", {"item_id": "coke", "quantity": 5})]),
        ("a dozen cokes", "en-US", [("add_item", {"item_id": "coke", "quantity": 12})]),
        (
            "one small pepperoni",
            "en-US",
            [("add_item", {"item_id": "pepperoni", "quantity": 1, "option_id": "small"})],
        ),
        ("remove the garlic bread", "en-US", [("remove_item", {"item_id": "garlic-bread"})]),
        ("bye", "en-US", [("end_call", {})]),
    ],
)
def test_interpret_picks_ids_and_quantities(
    utterance: str, lang: str, expected: list[tuple[str, dict[str, object]]]
) -> None:
    state = make_state(lang=lang)
    understood = interpret(utterance, state)
    assert [(c.name, c.arguments) for c in understood.calls] == expected


def test_pending_questions_are_answered_in_context() -> None:
    state = make_state(lang="pt-BR")
    state.awaiting = "fulfilment"
    assert [(c.name, c.arguments) for c in interpret("vou buscar", state).calls] == [
        ("set_fulfilment", {"method": "pickup"})
    ]
    state.awaiting = "address"
    assert interpret("Av. Paulista 1000, ap 12", state).calls[0].arguments == {
        "method": "delivery",
        "address": "Av. Paulista 1000, ap 12",
    }
    state.awaiting = "confirmation"
    assert [c.name for c in interpret("pode confirmar", state).calls] == ["confirm_order"]
    assert interpret("não", state).say == "what_to_change"
    assert interpret("hmm", make_state()).say == "not_understood"


def test_address_extraction_and_speakable_text() -> None:
    assert extract_address("é para entrega na Rua X, 45") == "Rua X, 45"
    assert extract_address("delivery to 12 Baker Street") == "12 Baker Street"
    assert extract_address("para entrega") is None
    assert speakable("Anotado: 1x Coca [coca-cola-2l] R$ 14,00.") == "Anotado: 1x Coca R$ 14,00."


def test_a_size_asked_for_is_answered_in_the_next_turn() -> None:
    state = make_state(lang="pt-BR")

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            asked = await turn(session, "quero duas calabresas")
            answered = await turn(session, "grande")
        # Then the agent asks the size, and the answer completes the same item
        assert "Qual tamanho de Calabresa?" in spoken(asked)[0]
        assert tool_calls(answered) == [
            ("add_item", '{"item_id": "pizza-calabresa", "quantity": 2, "option_id": "grande"}')
        ]

    run(body())
    assert _cart(state) == [("pizza-calabresa", "grande", 2)]
    assert state.pending_size is None
