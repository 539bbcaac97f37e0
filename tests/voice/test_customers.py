"""Returning callers: recognised by phone per tenant, greeted by name, "o de sempre"
re-priced from today's menu, the name never asked again, the order remembered."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from atende_local.seed import demo_agent_config, demo_menu, demo_tenant
from atende_shared.events import OrderPlaced
from atende_shared.models.customer import Customer, RememberedLine
from atende_shared.models.menu import Menu
from tests.voice.conftest import FakePublisher, FakeTranscripts, FakeTransferer
from tests.voice.helpers import run, spoken, started, turn
from voice_fargate.brain import OfflineBrain
from voice_fargate.session import prepare_call
from voice_fargate.state import CallServices
from voice_fargate.tenant_cache import TenantBundle

CALLER = "+5511988887777"
OPEN = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)  # 20:00 in São Paulo: the pizzeria is open


@dataclass
class MemoryCustomers:
    """The CustomerStore protocol in memory, keyed like the DynamoDB one."""

    rows: dict[tuple[str, str], Customer] = field(default_factory=dict)

    def get(self, tenant_id: str, phone: str) -> Customer | None:
        return self.rows.get((tenant_id, phone))

    def put(self, customer: Customer) -> None:
        self.rows[(customer.tenant_id, customer.phone)] = customer

    def delete(self, tenant_id: str, phone: str) -> bool:
        return self.rows.pop((tenant_id, phone), None) is not None


def _repriced(menu: Menu, item_id: str, option_id: str, cents: int) -> Menu:
    items = []
    for item in menu.items:
        if item.item_id == item_id:
            options = [
                o.model_copy(update={"price_cents": cents}) if o.option_id == option_id else o
                for o in item.options
            ]
            item = item.model_copy(update={"options": options})
        items.append(item)
    return menu.model_copy(update={"items": items})


@pytest.mark.parametrize("usual", ["o de sempre", "sim", "pode ser, o mesmo da última vez"])
def test_a_returning_caller_orders_the_usual_at_todays_prices(usual: str) -> None:
    # Given Ana, who last ordered a large half calabresa half portuguesa with catupiry crust
    # and two cokes, and a menu whose large calabresa got dearer since
    tenant = demo_tenant()
    customers = MemoryCustomers()
    customers.put(
        Customer(
            tenant_id=tenant.tenant_id,
            phone=CALLER,
            name="Ana",
            orders=3,
            last_order=[
                RememberedLine(
                    item_id="pizza-calabresa",
                    option_id="grande",
                    quantity=1,
                    flavours=["pizza-calabresa", "pizza-portuguesa"],
                    modifiers=["borda-catupiry"],
                ),
                RememberedLine(item_id="coca-cola-2l", quantity=2),
            ],
        )
    )
    customers.put(Customer(tenant_id="another-shop", phone="+5511911112222", name="Bia"))
    menu = _repriced(demo_menu(), "pizza-calabresa", "grande", 6_100)
    publisher = FakePublisher()
    state = prepare_call(
        TenantBundle(tenant=tenant, agent_config=demo_agent_config(), menu=menu),
        call_id="SCL_usual",
        room_name="atd_demo-pizzaria_SCL_usual",
        services=CallServices(
            publisher=publisher,
            transcripts=FakeTranscripts(),
            transferer=FakeTransferer(),
            customers=customers,
        ),
        caller_number=CALLER,
        now=OPEN,
    )
    said: list[str] = []

    # When she calls and asks for the usual, for pickup, paying by PIX
    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            said.extend(m.text_content or "" for m in session.history.messages())
            for line in (usual, "vou retirar", "pix", "sim"):
                said.extend(spoken(await turn(session, line)))

    run(body())
    # Then she was greeted by name, never asked her name, and the order is her last one
    # priced from today's menu (the dearer calabresa sets the half-and-half's price)
    assert "Ana" in said[0]
    assert not any("Em nome de quem" in s for s in said)
    (order,) = [e for e in publisher.events if isinstance(e, OrderPlaced)]
    assert order.customer_name == "Ana"
    pizza, coke = order.lines
    assert [f.item_id for f in pizza.flavours] == ["pizza-calabresa", "pizza-portuguesa"]
    assert pizza.unit_price_cents == 6_100 + 900
    assert (coke.item_id, coke.quantity) == ("coca-cola-2l", 2)
    assert order.total_cents == 6_100 + 900 + 2 * 1_400
    # And the store remembers this order, counted, for this tenant only
    remembered = customers.get(tenant.tenant_id, CALLER)
    assert remembered is not None
    assert remembered.orders == 4
    assert [ln.item_id for ln in remembered.last_order] == ["pizza-calabresa", "coca-cola-2l"]
    assert customers.get("another-shop", "+5511911112222") is not None


def test_a_new_caller_is_asked_their_name_once_and_remembered() -> None:
    tenant = demo_tenant()
    customers = MemoryCustomers()
    state = prepare_call(
        TenantBundle(tenant=tenant, agent_config=demo_agent_config(), menu=demo_menu()),
        call_id="SCL_new",
        room_name="atd_demo-pizzaria_SCL_new",
        services=CallServices(
            publisher=FakePublisher(),
            transcripts=FakeTranscripts(),
            transferer=FakeTransferer(),
            customers=customers,
        ),
        caller_number=CALLER,
        now=OPEN,
    )

    async def body() -> None:
        async with started(state, OfflineBrain(state)) as session:
            for line in ("duas cocas", "só isso", "retirar", "pix", "Carlos", "sim"):
                await turn(session, line)

    run(body())
    remembered = customers.get(tenant.tenant_id, CALLER)
    assert remembered is not None
    assert (remembered.name, remembered.orders) == ("Carlos", 1)
    assert [(ln.item_id, ln.quantity) for ln in remembered.last_order] == [("coca-cola-2l", 2)]
