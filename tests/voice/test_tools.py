"""The ordering tools, driven in text mode by a scripted LLM (not the offline brain).

Whatever the LLM says or passes, amounts come from the menu; problems the caller can fix
come back as tool errors the LLM sees; the order is published once per call.
"""

from __future__ import annotations

from typing import Any

import pytest
from livekit.agents import mock_tools

from atende_shared.events import OrderPlaced
from atende_shared.models.tenant import AgentConfig, Tenant, TenantStatus
from tests.voice.conftest import FakePublisher, FakeTransferer, make_state
from tests.voice.helpers import closes, run, spoken, started, turn, watch_close
from tests.voice.scripted_llm import ScriptedLLM, Step, call, say
from voice_fargate.agent import OrderingAgent
from voice_fargate.services import LiveKitTransferer
from voice_fargate.session import agent_for, limit_call_length, new_session, prepare_call
from voice_fargate.settings import ProviderSettings
from voice_fargate.state import CallState
from voice_fargate.tenant_cache import TenantBundle


def _publisher(state: CallState) -> FakePublisher:
    publisher = state.services.publisher
    assert isinstance(publisher, FakePublisher)
    return publisher


def _order_events(state: CallState) -> list[OrderPlaced]:
    return [e for e in _publisher(state).events if isinstance(e, OrderPlaced)]


def test_search_and_describe_answer_from_the_menu(state_pt: CallState) -> None:
    # Given an LLM that searches the menu and then describes an item
    model = ScriptedLLM(
        [
            call("search_menu", query="calabresa"),
            say("Temos calabresa."),
            call("describe_item", item_id="pizza-calabresa"),
            say("Ok."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            # When the caller asks
            first = await turn(session, "tem calabresa?")
            second = await turn(session, "quanto custa?")
            # Then the tools answer with ids and menu prices
            first.expect.next_event().is_function_call(name="search_menu")
            out = first.expect.next_event().is_function_call_output().event().item
            assert "[pizza-calabresa]" in out.output
            assert "R$ 49,90" in out.output
            second.expect.next_event().is_function_call(name="describe_item")
            described = second.expect.next_event().is_function_call_output().event().item
            assert "Grande (8 fatias) [grande] R$ 49,90" in described.output
            assert "Broto (4 fatias) [broto] R$ 29,90" in described.output

    run(body())


def test_prices_are_computed_server_side_whatever_the_llm_says(state_pt: CallState) -> None:
    # Given an LLM that claims a wrong price in words and passes a price argument
    model = ScriptedLLM(
        [
            call("add_item", item_id="coca-cola-2l", quantity=2, unit_price_cents=1),
            say("Duas cocas, total de R$ 1,00."),
            call("set_fulfilment", method="pickup"),
            say("Ok, retirada. Total R$ 1,00, confirmo?"),
            call("confirm_order"),
            say("Confirmado, R$ 1,00."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            # When the order is taken and confirmed
            added = await turn(session, "duas cocas")
            await turn(session, "vou retirar")
            await turn(session, "sim")
            # Then the tool's own result and the published order carry menu prices
            output = added.expect.next_event(type="function_call").event().item
            assert output.name == "add_item"
            result = added.expect.next_event().is_function_call_output().event().item
            assert "R$ 28,00" in result.output
            assert not result.is_error
        (order,) = _order_events(state_pt)
        assert [(ln.item_id, ln.quantity, ln.unit_price_cents) for ln in order.lines] == [
            ("coca-cola-2l", 2, 1_400)
        ]
        assert order.total_cents == 2_800
        assert order.fulfilment == "pickup"
        assert order.customer_phone == "+5511988887777"

    run(body())


def test_add_with_option_and_the_errors_the_caller_can_fix(state_pt: CallState) -> None:
    # Given an LLM that forgets the size, then names a wrong one, an unknown item, then fixes it
    model = ScriptedLLM(
        [
            call("add_item", item_id="pizza-calabresa", quantity=1),
            say("Qual tamanho?"),
            call("add_item", item_id="pizza-calabresa", quantity=1, option_id="gigante"),
            say("Esse tamanho não existe."),
            call("add_item", item_id="lasanha", quantity=1),
            say("Não temos."),
            call("add_item", item_id="pizza-calabresa", quantity=3, option_id="broto"),
            say("Anotado."),
            call("add_item", item_id="pizza-calabresa", quantity=0, option_id="broto"),
            say("?"),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            results = [
                await turn(session, text)
                for text in ("uma calabresa", "gigante", "lasanha", "três broto", "zero")
            ]
        outputs = [r.expect.next_event(type="function_call_output").event().item for r in results]
        # Then each caller-fixable problem is a tool error, and only the valid add lands
        assert [o.is_error for o in outputs] == [True, True, True, False, True]
        assert "Qual tamanho de Calabresa?" in outputs[0].output
        assert "não tem essa opção" in outputs[1].output
        assert "Não encontrei" in outputs[2].output
        assert "R$ 89,70" in outputs[3].output  # 3 x broto 29,90
        assert [(ln.item_id, ln.option_id, ln.quantity) for ln in state_pt.cart] == [
            ("pizza-calabresa", "broto", 3)
        ]

    run(body())


def test_sold_out_item_is_refused_with_an_alternative(state_pt: CallState) -> None:
    # Given a sold-out item and one with 3 units of stock
    model = ScriptedLLM(
        [
            call("add_item", item_id="pizza-chocolate", quantity=1),
            say("Esgotada."),
            call("add_item", item_id="guarana-lata", quantity=4),
            say("Só temos 3."),
            call("describe_item", item_id="pizza-chocolate"),
            say("Acabou."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            # When the caller orders them
            sold_out = await turn(session, "uma pizza de chocolate")
            too_many = await turn(session, "quatro guaranás")
            asked = await turn(session, "tem pizza de chocolate?")
        first = sold_out.expect.next_event(type="function_call_output").event().item
        second = too_many.expect.next_event(type="function_call_output").event().item
        # Then both are refused, the first with an alternative, and nothing is added
        assert first.is_error
        assert "acabou hoje" in first.output
        assert "Posso oferecer Pizza Margherita [pizza-margherita] por R$ 54,90?" in first.output
        assert second.is_error
        assert "só temos 3" in second.output
        assert state_pt.cart == []
        described = asked.expect.next_event(type="function_call_output").event().item
        assert described.output.startswith("Desculpe, Pizza de Chocolate acabou hoje.")

    run(body())


def test_remove_and_change_quantity_and_option(state_pt: CallState) -> None:
    model = ScriptedLLM(
        [
            Step(
                calls=[
                    (
                        "add_item",
                        {"item_id": "pizza-calabresa", "quantity": 1, "option_id": "media"},
                    ),
                    ("add_item", {"item_id": "coca-cola-2l", "quantity": 1}),
                    ("add_item", {"item_id": "agua-sem-gas", "quantity": 2}),
                ]
            ),
            say("Anotado."),
            call("change_item", item_id="pizza-calabresa", quantity=2, new_option_id="grande"),
            say("Alterado."),
            call("remove_item", item_id="coca-cola-2l"),
            say("Removido."),
            call("remove_item", item_id="coca-cola-2l"),
            say("Não está."),
            call("change_item", item_id="agua-sem-gas", quantity=0),
            say("Tirei."),
            call("read_back_cart"),
            say("Lido."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            for text in ("pedido", "duas grandes", "sem coca", "sem coca", "sem água"):
                await turn(session, text)
            readback = await turn(session, "só isso")
        out = readback.expect.next_event(type="function_call_output").event().item
        # Then the cart holds exactly the changed pizza, read back with the menu total
        assert [(ln.item_id, ln.option_id, ln.quantity) for ln in state_pt.cart] == [
            ("pizza-calabresa", "grande", 2)
        ]
        assert out.output.startswith("Seu pedido: 2x Calabresa Grande (8 fatias) R$ 99,80.")
        assert "Total R$ 99,80" in out.output
        assert "retirar" in out.output
        assert state_pt.awaiting == "fulfilment"

    run(body())


def test_delivery_needs_an_address(state_pt: CallState) -> None:
    model = ScriptedLLM(
        [
            call("add_item", item_id="coca-cola-2l", quantity=1),
            say("Ok."),
            call("set_fulfilment", method="delivery"),
            say("Qual o endereço?"),
            call("set_fulfilment", method="delivery", address="Rua das Flores, 123"),
            say("Ok."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            await turn(session, "uma coca")
            missing = await turn(session, "entrega")
            given = await turn(session, "Rua das Flores, 123")
        first = missing.expect.next_event(type="function_call_output").event().item
        second = given.expect.next_event(type="function_call_output").event().item
        assert first.is_error
        assert "endereço" in first.output
        assert not second.is_error
        assert "Rua das Flores, 123" in second.output
        assert (state_pt.fulfilment, state_pt.address) == ("delivery", "Rua das Flores, 123")

    run(body())


def test_confirming_twice_publishes_one_order(state_pt: CallState) -> None:
    # Given an LLM that confirms, then confirms again (twice in one turn, then once more)
    model = ScriptedLLM(
        [
            call("confirm_order"),
            say("Falta a entrega."),
            call("add_item", item_id="coca-cola-2l", quantity=1),
            say("Ok."),
            call("set_fulfilment", method="pickup"),
            say("Confirmo?"),
            Step(calls=[("confirm_order", {}), ("confirm_order", {})]),
            say("Confirmado."),
            call("confirm_order"),
            say("Já estava confirmado."),
            call("add_item", item_id="agua-sem-gas", quantity=1),
            say("?"),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            early = await turn(session, "confirma")
            await turn(session, "uma coca")
            await turn(session, "retirar")
            await turn(session, "sim, confirma")
            again = await turn(session, "confirma de novo")
            late = await turn(session, "e uma água")
        # Then: the early confirmation is refused, one order is published, later calls
        # repeat its number, and the cart is locked
        assert early.expect.next_event(type="function_call_output").event().item.is_error
        orders = _order_events(state_pt)
        assert len(orders) == 1
        assert state_pt.order is not None
        assert orders[0].order_id == state_pt.order.order_id
        repeat = again.expect.next_event(type="function_call_output").event().item
        assert f"número {state_pt.order.number}" in repeat.output
        locked = late.expect.next_event(type="function_call_output").event().item
        assert locked.is_error
        assert "já foi confirmado" in locked.output
        assert state_pt.outcome == "ordered"

    run(body())


def test_a_failed_publish_is_retryable_and_still_publishes_once(state_pt: CallState) -> None:
    _publisher(state_pt).fail_next = 1
    state_pt.fulfilment = "pickup"
    model = ScriptedLLM(
        [
            call("add_item", item_id="coca-cola-2l", quantity=1),
            say("Ok."),
            call("confirm_order"),
            say("Erro."),
            call("confirm_order"),
            say("Confirmado."),
        ]
    )

    async def body() -> None:
        async with started(state_pt, model) as session:
            await turn(session, "uma coca")
            failed = await turn(session, "confirma")
            await turn(session, "tenta de novo")
        assert failed.expect.next_event(type="function_call_output").event().item.is_error
        assert len(_order_events(state_pt)) == 1

    run(body())


def test_same_call_id_gives_the_same_order_id() -> None:
    # Given two states for the same call (a re-dispatched job) and one for another call
    first, again, other = make_state(), make_state(), make_state(call_id="SCL_other")
    # Then the order identity is stable per call and differs across calls
    assert first.order_identity() == again.order_identity()
    assert first.order_identity()[0] != other.order_identity()[0]


def test_transfer_uses_the_tenants_number(state_pt: CallState) -> None:
    model = ScriptedLLM([call("transfer_to_human"), say("Transferindo.")])

    async def body() -> None:
        async with started(state_pt, model) as session:
            result = await turn(session, "quero falar com uma pessoa")
        result.expect.next_event().is_function_call(name="transfer_to_human")
        transferer = state_pt.services.transferer
        assert isinstance(transferer, FakeTransferer)
        assert transferer.transfers == [
            {
                "room": "atd_pizzaria-teste_SCL_test_call_1",
                "participant": "sip_+5511988887777",
                "to": "+5511999990000",
            }
        ]
        assert state_pt.outcome == "transferred"

    run(body())


def test_transfer_without_a_number_keeps_serving() -> None:
    state = make_state()
    state.agent_config = state.agent_config.model_copy(update={"transfer_number": None})
    model = ScriptedLLM([call("transfer_to_human"), say("Posso anotar.")])

    async def body() -> None:
        async with started(state, model) as session:
            result = await turn(session, "atendente")
        out = result.expect.next_event(type="function_call_output").event().item
        assert "não há atendente" in out.output
        assert state.outcome == "in_progress"

    run(body())


def test_livekit_transferer_sends_sip_refer(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given the LiveKit API client replaced by a recorder (no LiveKit server here)
    sent: list[Any] = []

    class FakeSip:
        async def transfer_sip_participant(self, request: Any) -> None:
            sent.append(request)

    class FakeLiveKitAPI:
        def __init__(self, url: str | None, api_key: str | None, api_secret: str | None) -> None:
            assert url
            assert api_key
            assert api_secret
            self.sip = FakeSip()

        async def __aenter__(self) -> FakeLiveKitAPI:
            return self

        async def __aexit__(self, *args: object) -> None:
            return None

    from livekit import api

    monkeypatch.setattr(api, "LiveKitAPI", FakeLiveKitAPI)
    settings = ProviderSettings.model_validate(
        {"LIVEKIT_URL": "wss://lk.example", "LIVEKIT_API_KEY": "k", "LIVEKIT_API_SECRET": "s"}
    )
    # When a call is transferred
    run(
        LiveKitTransferer(settings).transfer(
            room_name="atd_t1_x", participant_identity="sip_1", to_number="+5511999990000"
        )
    )
    # Then one TransferSIPParticipant request names the room, the caller and a tel: URI
    (request,) = sent
    assert isinstance(request, api.TransferSIPParticipantRequest)
    assert (request.room_name, request.participant_identity, request.transfer_to) == (
        "atd_t1_x",
        "sip_1",
        "tel:+5511999990000",
    )


def test_end_call_says_goodbye_and_closes_the_session(state_pt: CallState) -> None:
    model = ScriptedLLM([call("end_call"), say("Tchau!")])

    async def body() -> None:
        async with started(state_pt, model) as session:
            closed = watch_close(session)
            result = await turn(session, "tchau")
            assert "Tchau!" in spoken(result)
            assert await closes(closed)
        assert state_pt.outcome == "ended_without_order"
        assert _order_events(state_pt) == []

    run(body())


def test_suspended_tenant_is_refused_politely_without_the_llm() -> None:
    # Given a suspended tenant
    base = make_state()
    tenant = Tenant(
        tenant_id="pizzaria-teste", name="Pizzaria Teste", status=TenantStatus.SUSPENDED
    )
    bundle = TenantBundle(
        tenant=tenant, agent_config=AgentConfig(tenant_id=tenant.tenant_id), menu=base.menu
    )
    state = prepare_call(
        bundle, call_id="c1", room_name="atd_pizzaria-teste_c1", services=base.services
    )
    model = ScriptedLLM([call("add_item", item_id="coca-cola-2l", quantity=1)])

    async def body() -> None:
        # When the call starts
        async with model, new_session(state, llm_model=model) as session:
            closed = watch_close(session)
            await session.start(agent_for(state))
            # Then the refusal is said and the session closes by itself
            assert await closes(closed)
            said = [m.text_content for m in session.history.messages() if m.role == "assistant"]
        assert said
        assert "não estamos recebendo pedidos" in (said[0] or "")
        assert model.requests == []
        assert state.outcome == "refused_suspended"
        assert _order_events(state) == []

    run(body())


def test_mock_tools_replaces_a_tool_for_one_run(state_pt: CallState) -> None:
    # Given the framework's mock_tools over the transfer tool
    model = ScriptedLLM([call("transfer_to_human"), say("ok")])

    async def body() -> None:
        async with started(state_pt, model) as session:
            with mock_tools(OrderingAgent, {"transfer_to_human": lambda: "mocked transfer"}):
                result = await turn(session, "atendente")
        out = result.expect.next_event(type="function_call_output").event().item
        assert out.output == "mocked transfer"
        assert state_pt.outcome == "in_progress"

    run(body())


def test_a_call_at_its_maximum_length_is_ended_politely(state_pt: CallState) -> None:
    async def body() -> None:
        async with started(state_pt, ScriptedLLM([])) as session:
            closed = watch_close(session)
            # Given a (very short) maximum call length, when it passes
            limit_call_length(session, state_pt, seconds=0.05)
            # Then the agent says so and hangs up
            assert await closes(closed)
            said = [m.text_content for m in session.history.messages() if m.role == "assistant"]
        assert "tempo máximo" in (said[-1] or "")
        assert state_pt.outcome == "ended_without_order"

    run(body())


def test_the_stock_greeting_is_said_in_the_tenants_language() -> None:
    # Given an English-speaking tenant that kept the stock (Portuguese) greeting
    state = make_state(lang="en-US")
    state.agent_config = AgentConfig(tenant_id="pizzaria-teste", language="en-US")

    async def body() -> None:
        async with started(state, ScriptedLLM([])) as session:
            said = [m.text_content for m in session.history.messages() if m.role == "assistant"]
        # Then the caller is greeted in English, with the business name filled in
        assert said == [
            "Hello! You have reached Pizzaria Teste. I am the virtual assistant. "
            "What can I get you today?"
        ]

    run(body())


def test_an_llm_cannot_set_prices_of_flavours_modifiers_or_delivery() -> None:
    # Given the demo pizzeria and an LLM that slips prices into every argument it can
    from atende_local.seed import demo_agent_config, demo_menu, demo_tenant

    tenant = demo_tenant()
    state = make_state(menu=demo_menu(), tenant=tenant, config=demo_agent_config())
    model = ScriptedLLM(
        [
            call(
                "add_item",
                item_id="pizza-calabresa",
                quantity=1,
                option_id="grande",
                flavour_ids=["pizza-quatro-queijos"],
                modifier_ids=["borda-catupiry"],
                notes="sem cebola",
                unit_price_cents=100,
                price_cents=100,
            ),
            say("Uma pizza por R$ 1,00."),
            call(
                "set_fulfilment",
                method="delivery",
                address="Rua Augusta 1500, apto 12, Consolação",
                fee_cents=0,
            ),
            say("Entrega grátis."),
            call("set_payment", method="cash", change_for_cents=10_000, total_cents=100),
            say("Troco para cem."),
            Step(calls=[("set_customer_name", {"name": "Ana"})]),
            say("Confirmo?"),
            call("confirm_order", total_cents=100),
            say("Confirmado por R$ 1,00."),
        ]
    )

    async def body() -> None:
        async with started(state, model) as session:
            for line in ("uma meio calabresa meio quatro queijos", "entrega", "dinheiro", "Ana"):
                await turn(session, line)
            await turn(session, "sim")

    run(body())
    # Then the line, the fee and the total come from the menu and the tenant's rules
    (order,) = _order_events(state)
    (line,) = order.lines
    calabresa = next(i for i in demo_menu().items if i.item_id == "pizza-calabresa")
    queijos = next(i for i in demo_menu().items if i.item_id == "pizza-quatro-queijos")
    highest = max(calabresa.options[0].price_cents, queijos.options[0].price_cents)
    assert tenant.delivery.flavour_pricing == "highest"
    assert line.unit_price_cents == highest + 900  # the dearest flavour + the crust's delta
    assert [f.item_id for f in line.flavours] == ["pizza-calabresa", "pizza-quatro-queijos"]
    assert [(m.modifier_id, m.price_delta_cents) for m in line.modifiers] == [
        ("borda-catupiry", 900)
    ]
    assert line.notes == "sem cebola"
    assert order.delivery_fee_cents == tenant.delivery.zones[0].fee_cents == 500
    assert order.subtotal_cents == highest + 900
    assert order.total_cents == highest + 900 + 500
    assert order.payment is not None
    assert order.payment.change_for_cents == 10_000
    assert order.address is not None
    assert order.address.neighbourhood == "Consolação"


def test_average_flavour_pricing_rounds_half_up_to_the_cent() -> None:
    # Given a tenant that prices a half-and-half pizza by the mean of its flavours
    from atende_shared.ordering.pricing import combine_flavours

    assert combine_flavours([4_990, 5_791], "average") == 5_391  # 5390.5 → 5391
    assert combine_flavours([4_990, 5_790], "average") == 5_390
    assert combine_flavours([4_990, 5_790, 5_991], "highest") == 5_991


def test_the_kitchens_number_is_allocated_at_confirmation_and_said(state_pt: CallState) -> None:
    # Given a tenant counter that hands out 42 (and remembers who asked)
    asked: list[tuple[str, str]] = []

    def allocate(tenant_id: str, order_id: str) -> int:
        asked.append((tenant_id, order_id))
        return 42

    state_pt.services.allocate_number = allocate
    state_pt.fulfilment = "pickup"
    model = ScriptedLLM(
        [call("add_item", item_id="coca-cola-2l", quantity=1), say("Ok."), call("confirm_order")]
    )

    async def body() -> str:
        async with started(state_pt, model) as session:
            await turn(session, "uma coca")
            confirmed = await turn(session, "confirma")
        return confirmed.expect.next_event(type="function_call_output").event().item.output

    said = run(body())
    # Then the caller hears the kitchen's number and the order carries it
    (order,) = _order_events(state_pt)
    assert order.order_number == 42
    assert "Número 42" in said
    assert asked == [("pizzaria-teste", order.order_id)]
