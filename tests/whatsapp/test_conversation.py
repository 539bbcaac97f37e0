"""The WhatsApp conversation logic on the ordering core, with in-memory fakes: ordering,
duplicates, echoes, human takeover, hand-off, guards, odd input, sessions."""

from __future__ import annotations

import json

import pytest

from atende_shared.errors import DependencyUnavailable
from atende_shared.models.envelope import InboundEvent
from atende_shared.models.tenant import OrderSettings, WhatsAppSettings
from atende_shared.ordering.prompts import text
from atende_shared.whatsapp import WhatsAppSendError
from functions.orders.logic import conversation_admin
from functions.orders.logic.chat_ports import StaleSession
from functions.orders.logic.conversation import handle_message
from functions.orders.models.whatsapp import PauseRequest
from tests.whatsapp.chat_fakes import CUSTOMER, World, answer_to, evolution, zapi

ORDER_SCRIPT = [
    "oi",
    "quero uma pizza margherita grande",
    "e uma coca 2 litros",
    "só isso",
    "entrega",
    "Rua das Flores, 123",
]


def _order(world: World, deliver=zapi) -> list[str]:  # type: ignore[no-untyped-def]
    """The script, then the customer's answers to whatever the core still asks, until the
    order is placed; each message's outcome."""
    outcomes = [handle_message(deliver(line), world.deps()) for line in ORDER_SCRIPT]
    for _ in range(6):
        answer = answer_to(world.gateway.texts()[-1])
        if answer is None or outcomes[-1] == "ordered":
            break
        outcomes.append(handle_message(deliver(answer), world.deps()))
    return outcomes


@pytest.fixture
def world() -> World:
    return World()


def _say(world: World, event: InboundEvent) -> str:
    return handle_message(event, world.deps())


def _settings(world: World, **changes: object) -> None:
    tenant = world.tenants.tenant
    world.tenants.tenant = tenant.model_copy(
        update={"whatsapp": tenant.whatsapp.model_copy(update=changes)}
    )


@pytest.mark.parametrize(
    "deliver",
    [
        lambda line: zapi(line),
        lambda line: evolution(line, version="v2"),
        lambda line: evolution(line, version="v1"),
        # Evolution carries typed text (a reply, a link) in extendedTextMessage
        lambda line: evolution(message={"extendedTextMessage": {"text": line}}),
    ],
    ids=["zapi", "evolution-v2", "evolution-v1", "evolution-extended-text"],
)
def test_a_scripted_conversation_places_the_exact_order(world: World, deliver) -> None:
    # When the customer writes the script (and answers what the core asks), one at a time
    outcomes = _order(world, deliver)
    # Then every message was answered once, and the last one placed the order
    assert outcomes[-1] == "ordered"
    assert set(outcomes[:-1]) == {"answered"}
    replies = world.gateway.texts(to=CUSTOMER)
    assert len(replies) == len(outcomes)
    assert replies[0].startswith("Olá! Aqui é a assistente virtual de Pizzaria Demo")
    assert "R$ 68,90" in replies[3]
    assert replies[-1].startswith("Pedido confirmado!")
    assert "Obrigado pela ligação" not in replies[-1]  # the phone's goodbye is not said here
    # And exactly one OrderPlaced, on the WhatsApp channel, priced from the menu
    [order] = world.publisher.orders
    assert order.channel == "whatsapp"
    assert order.conversation_id
    assert order.call_id is None
    assert order.customer_phone == f"+{CUSTOMER}"
    assert [(ln.item_id, ln.option_id, ln.quantity, ln.line_total_cents) for ln in order.lines] == [
        ("pizza-margherita", "grande", 1, 5_490),
        ("coca-cola-2l", None, 1, 1_400),
    ]
    assert order.total_cents == 6_890 + order.delivery_fee_cents
    assert order.fulfilment == "delivery"
    assert order.delivery_address is not None
    assert order.delivery_address.startswith("Rua das Flores, 123")


def test_replies_go_back_through_the_gateway_the_customer_wrote_through(world: World) -> None:
    _say(world, zapi("oi"))
    _say(world, evolution("oi", jid="5511977776666@s.whatsapp.net"))
    assert [(g, m.to) for g, m in world.gateway.sent] == [
        ("zapi", CUSTOMER),
        ("evolution", "5511977776666"),
    ]


def test_the_same_delivery_twice_is_answered_once(world: World) -> None:
    first = zapi("quero uma coca 2 litros", message_id="DUP1")
    assert _say(world, first) == "answered"
    assert _say(world, first) == "duplicate"
    assert len(world.gateway.sent) == 1
    assert world.store.get_session("demo-pizzaria", CUSTOMER).state["cart"][0]["quantity"] == 1


def test_a_reply_that_failed_is_sent_by_the_redelivery_exactly_once(world: World) -> None:
    # Given the gateway fails the first reply (the record is retried by SQS)
    world.gateway.failures.append(WhatsAppSendError("503", transient=True))
    message = zapi("quero uma coca 2 litros", message_id="RETRY1")
    with pytest.raises(DependencyUnavailable):
        _say(world, message)
    assert world.gateway.sent == []
    # When the same delivery comes back, twice
    assert _say(world, message) == "duplicate"
    assert _say(world, message) == "duplicate"
    # Then the reply went out once and the cart holds one coke
    assert len(world.gateway.texts()) == 1
    assert "Coca-Cola 2L" in world.gateway.texts()[0]
    assert world.store.get_session("demo-pizzaria", CUSTOMER).state["cart"][0]["quantity"] == 1


def test_three_quick_messages_are_answered_in_order_once_each(world: World) -> None:
    for line in ["quero uma pizza calabresa media", "e um guaraná", "e uma água"]:
        _say(world, zapi(line))
    replies = world.gateway.texts()
    assert len(replies) == 3
    assert "Calabresa" in replies[0]
    assert "Guaraná" in replies[1]
    assert "Água" in replies[2]


def test_our_own_echo_is_never_answered(world: World) -> None:
    _say(world, zapi("oi"))
    [(_, sent)] = world.gateway.sent
    our_id = world.sent_log.sent("demo-pizzaria", sent.idempotency_key).message_id
    assert _say(world, zapi(sent.text, message_id=our_id, from_me=True)) == "own_echo"
    assert _say(world, evolution(sent.text, message_id=our_id, from_me=True)) == "own_echo"
    assert len(world.gateway.sent) == 1
    assert world.store.get_pause("demo-pizzaria", CUSTOMER) is None
    assert _say(world, zapi("quero uma coca 2 litros")) == "answered"


def test_a_person_replying_from_the_restaurant_pauses_the_bot_until_the_pause_ends(
    world: World,
) -> None:
    _say(world, zapi("oi"))
    # When someone types on the restaurant's phone (fromMe, not a message we sent; Z-API
    # sends the flag as a string in some versions)
    assert _say(world, zapi("Oi! Aqui é o João", from_me="true")) == "paused_by_human"
    # Then the customer's next messages are left to the person
    assert _say(world, zapi("quero uma coca 2 litros")) == "paused"
    assert len(world.gateway.sent) == 1
    # And after the tenant's pause (12 h by default) the bot answers again
    world.clock.advance(hours=12, minutes=1)
    assert _say(world, zapi("quero uma coca 2 litros")) == "answered"


def test_the_admin_can_pause_and_resume_a_conversation(world: World) -> None:
    tenant = world.tenants.tenant
    view = conversation_admin.pause(
        tenant, CUSTOMER, PauseRequest(hours=2), store=world.store, now=world.clock()
    )
    assert view.paused
    assert view.pause_reason == "admin"
    assert _say(world, zapi("oi")) == "paused"
    resumed = conversation_admin.resume(tenant, CUSTOMER, store=world.store, now=world.clock())
    assert not resumed.paused
    assert _say(world, zapi("quero uma coca 2 litros")) == "answered"
    assert (
        conversation_admin.view(tenant, CUSTOMER, store=world.store, now=world.clock()).cart_items
        == 1
    )


def test_asking_for_a_person_hands_off_pauses_and_tells_the_restaurant(world: World) -> None:
    tenant = world.tenants.tenant
    world.tenants.tenant = tenant.model_copy(
        update={"orders": OrderSettings(notification_phone="+551130009999")}
    )
    assert _say(world, zapi("quero falar com uma pessoa")) == "handed_off"
    assert world.gateway.texts(to=CUSTOMER) == [
        "Certo! Chamei uma pessoa da equipe, que vai continuar o atendimento por aqui em breve."
    ]
    [note] = world.gateway.texts(to="+551130009999")
    assert CUSTOMER in note
    assert "pessoa" in note
    assert world.store.get_pause("demo-pizzaria", CUSTOMER).reason == "hand_off"
    assert _say(world, zapi("alô?")) == "paused"


def test_a_burst_over_the_rate_limit_is_answered_once(world: World) -> None:
    _settings(world, messages_per_minute_per_customer=3)
    outcomes = [_say(world, zapi(f"quero {n} cocas 2 litros")) for n in range(1, 8)]
    assert outcomes == ["answered"] * 3 + ["rate_limited"] + ["rate_limited_silent"] * 3
    assert len(world.gateway.sent) == 4
    assert "muitas mensagens" in world.gateway.texts()[-1]
    world.clock.advance(minutes=1)
    assert _say(world, zapi("só isso")) == "answered"


def test_group_chats_are_ignored_unless_the_tenant_enables_them(world: World) -> None:
    group = zapi("quero uma coca", phone="120363025246125486-group", isGroup=True)
    assert _say(world, group) == "ignored_group"
    assert _say(world, evolution("oi", jid="120363025246125486@g.us")) == "ignored_group"
    _settings(world, group_chats=True)
    assert (
        _say(world, zapi("quero uma coca 2 litros", phone="120363025246125486-group", isGroup=True))
        == "answered"
    )
    assert world.gateway.sent[-1][1].to == "120363025246125486-group"


def test_a_lid_is_mapped_to_the_phone_the_gateway_gave_with_it(world: World) -> None:
    # Given a first message from a @lid that carries the phone as its alternative
    first = evolution(
        "quero uma coca 2 litros",
        jid="81896604192873@lid",
        remoteJidAlt=f"{CUSTOMER}@s.whatsapp.net",
    )
    assert _say(world, first) == "answered"
    # When the next one carries the @lid alone
    assert _say(world, evolution("e um guaraná", jid="81896604192873@lid")) == "answered"
    # Then both are one conversation with the phone, and replies go to the phone
    session = world.store.get_session("demo-pizzaria", CUSTOMER)
    assert [line["item_id"] for line in session.state["cart"]] == ["coca-cola-2l", "guarana-lata"]
    assert {m.to for _, m in world.gateway.sent} == {CUSTOMER}


def test_a_location_fills_the_delivery_address(world: World) -> None:
    _say(world, zapi("quero uma pizza margherita grande"))
    location = zapi(
        location={
            "latitude": -23.5613,
            "longitude": -46.6565,
            "name": "Casa",
            "address": "Av. Paulista, 1000 - São Paulo",
        }
    )
    assert _say(world, location) == "answered"
    # Then the address is the location's: the bot moves on, it does not ask for it again
    assert "endereço" not in world.gateway.texts()[-1]
    session = world.store.get_session("demo-pizzaria", CUSTOMER)
    assert session.state["fulfilment"] == "delivery"
    assert "Casa - Av. Paulista, 1000" in json.dumps(session.state, ensure_ascii=False)
    coordinates = evolution(
        message={"locationMessage": {"degreesLatitude": -23.5, "degreesLongitude": -46.6}},
        jid="5511955554444@s.whatsapp.net",
    )
    _say(world, coordinates)
    other = world.store.get_session("demo-pizzaria", "5511955554444")
    assert "-23.500000,-46.600000" in json.dumps(other.state)


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        (lambda: zapi(audio={"audioUrl": "https://x", "mimeType": "audio/ogg"}), "áudios"),
        (lambda: zapi(image={"imageUrl": "https://x", "caption": ""}), "imagens"),
        (lambda: zapi(sticker={"stickerUrl": "https://x"}), "escrever"),
        (lambda: zapi(contact={"displayName": "Ana", "vCard": "BEGIN:VCARD"}), "contato"),
        (lambda: zapi(document={"fileName": "menu.pdf"}), "arquivos"),
        (lambda: evolution(message={"audioMessage": {"seconds": 3}}), "áudios"),
        (lambda: evolution(message={"pollCreationMessage": {"name": "?"}}), "não consegui ler"),
    ],
)
def test_unsupported_types_get_a_helpful_sentence(world: World, event, needle: str) -> None:
    assert _say(world, event()) == "answered"
    assert needle in world.gateway.texts()[-1].lower()


@pytest.mark.parametrize(
    "line", ["", "   ", "😀😀😀", "🍕" * 50, "x" * 4_000, "quero " + "pizza " * 700]
)
def test_odd_text_never_crashes_nor_sticks(world: World, line: str) -> None:
    assert _say(world, zapi(line)) == "answered"
    assert _say(world, zapi("quero uma coca 2 litros")) == "answered"
    assert "Coca-Cola 2L" in world.gateway.texts()[-1]
    assert all(len(t) <= 4_096 for t in world.gateway.texts())


def test_an_image_caption_is_read_as_text(world: World) -> None:
    _say(world, zapi(image={"imageUrl": "https://x", "caption": "quero uma coca 2 litros"}))
    assert "Coca-Cola 2L" in world.gateway.texts()[-1]


def test_deliveries_that_are_not_messages_are_ignored(world: World) -> None:
    assert _say(world, zapi("oi", phone="")) == "ignored_not_a_message"
    not_upsert = evolution("oi")
    not_upsert = not_upsert.model_copy(update={"payload": {"event": "x", "data": []}})
    assert _say(world, not_upsert) == "ignored_not_a_message"
    assert world.gateway.sent == []


def test_an_idle_session_expires_and_a_confirmed_one_closes(world: World) -> None:
    _settings(world, session_idle_minutes=30)
    _say(world, zapi("quero uma coca 2 litros"))
    world.clock.advance(minutes=31)
    _say(world, zapi("só isso"))
    # a new conversation: greeted again, and the old cart is gone
    assert world.gateway.texts()[-1].startswith("Olá!")
    assert world.store.get_session("demo-pizzaria", CUSTOMER).state["cart"] == []
    assert _order(world)[-1] == "ordered"
    assert world.store.get_session("demo-pizzaria", CUSTOMER).closed
    _say(world, zapi("quero uma coca 2 litros"))
    assert world.gateway.texts()[-1].startswith("Olá!")
    assert len(world.publisher.orders) == 1


def test_a_channel_the_tenant_turned_off_is_silent(world: World) -> None:
    _settings(world, enabled=False)
    assert _say(world, zapi("oi")) == "ignored_disabled"
    assert world.gateway.sent == []


def test_a_concurrent_turn_on_the_same_conversation_is_refused(world: World) -> None:
    _say(world, zapi("oi"))
    stale = world.store.get_session("demo-pizzaria", CUSTOMER)
    _say(world, zapi("quero uma coca 2 litros"))
    with pytest.raises(StaleSession):
        world.store.save_session(
            stale.model_copy(update={"version": stale.version + 1}), expected_version=stale.version
        )


def test_the_goodbye_text_exists_in_the_core() -> None:
    # The channel drops the phone's goodbye by its text: it must still be the core's.
    assert "ligação" in text("goodbye", "pt")


def test_whatsapp_settings_defaults_are_the_issues() -> None:
    settings = WhatsAppSettings()
    assert (settings.session_idle_minutes, settings.human_pause_hours, settings.group_chats) == (
        30,
        12,
        False,
    )


def test_an_echo_that_overtakes_its_sent_record_is_still_ours(world: World) -> None:
    # The gateway can post the echo before our send call returned its id: the text of a
    # reply this conversation just stored is recognised too
    _say(world, zapi("quero uma coca 2 litros"))
    reply = world.gateway.texts()[-1]
    assert _say(world, zapi(reply, message_id="NOT-YET-RECORDED", from_me=True)) == "own_echo"
    assert world.store.get_pause("demo-pizzaria", CUSTOMER) is None


def test_a_bug_in_a_turn_is_apologised_for_and_the_conversation_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.orders.logic import conversation

    _say(world, zapi("quero uma coca 2 litros"))

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug in the brain")

    monkeypatch.setattr(conversation, "respond", broken)
    assert _say(world, zapi("e um guaraná")) == "answered"
    assert "tive um problema" in world.gateway.texts()[-1]
    monkeypatch.undo()
    assert _say(world, zapi("e um guaraná")) == "answered"
    cart = world.store.get_session("demo-pizzaria", CUSTOMER).state["cart"]
    assert [line["item_id"] for line in cart] == ["coca-cola-2l", "guarana-lata"]


def test_the_customer_is_told_the_kitchens_number_when_the_core_takes_an_allocator(
    world: World,
) -> None:
    import inspect

    from atende_shared.ordering.dialogue import respond

    if "allocate_number" not in inspect.signature(respond).parameters:
        pytest.skip("this ordering core numbers orders itself")
    allocated: list[tuple[str, str]] = []

    def allocate(tenant_id: str, order_id: str) -> int:
        allocated.append((tenant_id, order_id))
        return 41

    world_deps = world.deps
    world.deps = lambda: _with_allocator(world_deps(), allocate)  # type: ignore[method-assign]
    assert _order(world)[-1] == "ordered"
    [order] = world.publisher.orders
    assert order.order_number == 41
    assert allocated == [("demo-pizzaria", order.order_id)]
    assert "41" in world.gateway.texts()[-1]


def test_a_suspended_tenant_takes_no_orders_on_whatsapp(world: World) -> None:
    from atende_shared.models.tenant import SuspensionReason

    world.tenants.tenant = world.tenants.tenant.held(SuspensionReason.BALANCE)
    assert _say(world, zapi("quero uma coca 2 litros")) == "ignored_tenant_inactive"
    assert world.gateway.sent == []


def test_a_refused_reply_is_a_permanent_failure_and_a_gateway_outage_a_transient_one(
    world: World,
) -> None:
    from atende_shared.consumers import PermanentFailure, permanent_reason

    world.gateway.failures.append(WhatsAppSendError("401 bad token", transient=False))
    with pytest.raises(PermanentFailure) as refused:
        _say(world, zapi("quero uma coca 2 litros"))
    assert permanent_reason(refused.value) == "whatsapp_refused"
    world.gateway.failures.append(WhatsAppSendError("503", transient=True))
    with pytest.raises(DependencyUnavailable) as down:
        _say(world, zapi("e um guaraná"))
    assert permanent_reason(down.value) is None


def _with_allocator(deps, allocate):  # type: ignore[no-untyped-def]
    deps.allocate_number = allocate
    return deps


def test_parar_stops_order_notifications_and_voltar_brings_them_back(world: World) -> None:
    # When the customer writes PARAR (any case, with punctuation)
    assert _say(world, zapi("Parar.")) == "opted_out"
    # Then the orders domain will not notify them, and they are told how to come back
    assert world.opt_outs.is_opted_out("demo-pizzaria", f"+{CUSTOMER}")
    assert "VOLTAR" in world.gateway.texts()[-1]
    assert _say(world, zapi("voltar")) == "opted_in"
    assert not world.opt_outs.is_opted_out("demo-pizzaria", f"+{CUSTOMER}")
    # And "parar" inside a sentence is an order conversation, not an opt-out
    assert _say(world, zapi("quero parar de esperar, manda uma coca 2 litros")) == "answered"
    assert not world.opt_outs.is_opted_out("demo-pizzaria", f"+{CUSTOMER}")
