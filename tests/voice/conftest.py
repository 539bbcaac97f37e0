"""Voice agent fixtures: menus in Portuguese and English, tenants, fake services.

The fakes enforce the contracts of what they stand in for: the publisher serialises every
event exactly as ``EventBridgePublisher`` would (``to_put_events_entry``), the transferer
refuses what LiveKit's ``transfer_sip_participant`` would refuse (non-E.164 numbers, an
empty room or participant), and the transcript store only accepts JSON-serialisable bodies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from atende_shared.events import DomainEvent, OrderPayment, to_put_events_entry
from atende_shared.models.menu import Menu, MenuItem, MenuOption
from atende_shared.models.tenant import AgentConfig, Tenant
from voice_fargate.state import CallServices, CallState

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")


@dataclass
class FakePublisher:
    events: list[DomainEvent] = field(default_factory=list)
    fail_next: int = 0

    def publish(self, events: Sequence[DomainEvent]) -> None:
        from atende_shared.errors import DependencyUnavailable

        if self.fail_next:
            self.fail_next -= 1
            raise DependencyUnavailable("EventBridge refused the entries")
        for event in events:
            entry = to_put_events_entry(event, bus_name="test-bus")
            assert json.loads(entry["Detail"])["tenant_id"] == event.tenant_id
        self.events.extend(events)

    def of_type(self, detail_type: str) -> list[DomainEvent]:
        return [e for e in self.events if e.detail_type == detail_type]


@dataclass
class FakeTranscripts:
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put_json(self, key: str, body: dict[str, Any]) -> None:
        json.dumps(body)  # must be serialisable as-is
        self.bodies[key] = body


@dataclass
class FakeTransferer:
    transfers: list[dict[str, str]] = field(default_factory=list)

    async def transfer(self, *, room_name: str, participant_identity: str, to_number: str) -> None:
        if not _E164.match(to_number) or not room_name or not participant_identity:
            raise ValueError("invalid_argument: transfer needs a room, a participant and E.164")
        self.transfers.append(
            {"room": room_name, "participant": participant_identity, "to": to_number}
        )


def _pizza(item_id: str, name: str, aliases: list[str], grande: int) -> MenuItem:
    return MenuItem(
        item_id=item_id,
        name=name,
        aliases=aliases,
        category="Pizzas",
        price_cents=grande,
        options=[
            MenuOption(option_id="grande", name="Grande (8 fatias)", price_cents=grande),
            MenuOption(option_id="media", name="Média (6 fatias)", price_cents=grande - 1_000),
            MenuOption(option_id="broto", name="Broto (4 fatias)", price_cents=grande - 2_000),
        ],
    )


def menu_pt() -> Menu:
    return Menu(
        items=[
            _pizza("pizza-calabresa", "Calabresa", ["pizza de calabresa", "calabreza"], 4_990),
            _pizza("pizza-margherita", "Pizza Margherita", ["margherita", "marguerita"], 5_490),
            _pizza("pizza-quatro-queijos", "Quatro Queijos", ["4 queijos"], 5_990),
            MenuItem(
                item_id="pizza-chocolate",
                name="Pizza de Chocolate",
                aliases=["chocolate"],
                category="Pizzas",
                price_cents=3_990,
                available=False,
            ),
            MenuItem(
                item_id="coca-cola-2l",
                name="Coca-Cola 2L",
                aliases=["coca", "coca 2 litros"],
                category="Bebidas",
                price_cents=1_400,
                stock=24,
            ),
            MenuItem(
                item_id="guarana-lata",
                name="Guaraná Antarctica lata",
                aliases=["guaraná", "guarana lata"],
                category="Bebidas",
                price_cents=650,
                stock=3,
            ),
            MenuItem(
                item_id="agua-sem-gas",
                name="Água mineral sem gás 500ml",
                aliases=["água", "agua"],
                category="Bebidas",
                price_cents=400,
            ),
        ]
    )


def menu_en() -> Menu:
    size = [
        MenuOption(option_id="small", name="Small", price_cents=2_500),
        MenuOption(option_id="medium", name="Medium", price_cents=3_200),
        MenuOption(option_id="large", name="Large", price_cents=3_900),
    ]
    return Menu(
        items=[
            MenuItem(
                item_id="pepperoni",
                name="Pepperoni Pizza",
                aliases=["pepperoni"],
                category="Pizzas",
                price_cents=3_900,
                options=size,
            ),
            MenuItem(
                item_id="veggie",
                name="Veggie Pizza",
                aliases=["veggie", "vegetarian pizza"],
                category="Pizzas",
                price_cents=3_500,
                options=size,
                available=False,
            ),
            MenuItem(
                item_id="coke",
                name="Coke",
                aliases=["coca cola"],
                category="Drinks",
                price_cents=500,
            ),
            MenuItem(
                item_id="garlic-bread", name="Garlic Bread", category="Sides", price_cents=800
            ),
            MenuItem(item_id="lemonade", name="Lemonade", category="Drinks", price_cents=600),
        ]
    )


def make_state(
    *,
    lang: str = "pt-BR",
    menu: Menu | None = None,
    tenant: Tenant | None = None,
    config: AgentConfig | None = None,
    services: CallServices | None = None,
    call_id: str = "SCL_test_call_1",
) -> CallState:
    tenant = tenant or Tenant(tenant_id="pizzaria-teste", name="Pizzaria Teste")
    config = config or AgentConfig(
        tenant_id=tenant.tenant_id,
        language=lang,
        transfer_number="+5511999990000",
        greeting="Olá, {business}!" if lang.startswith("pt") else "Hello, {business}!",
    )
    return CallState(
        tenant=tenant,
        agent_config=config,
        menu=menu or (menu_pt() if lang.startswith("pt") else menu_en()),
        call_id=call_id,
        room_name=f"atd_{tenant.tenant_id}_{call_id}",
        services=services
        or CallServices(
            publisher=FakePublisher(), transcripts=FakeTranscripts(), transferer=FakeTransferer()
        ),
        caller_number="+5511988887777",
        dialled_number="+551130000000",
        participant_identity="sip_+5511988887777",
    )


def known_customer(state: CallState) -> CallState:
    """The caller's name and payment already given (scripted-LLM tests of other tools)."""
    state.customer_name = "Ana"
    state.payment = OrderPayment(method="pix")
    return state


@pytest.fixture
def state_pt() -> CallState:
    return known_customer(make_state(lang="pt-BR"))


@pytest.fixture
def state_en() -> CallState:
    return known_customer(make_state(lang="en-US"))
