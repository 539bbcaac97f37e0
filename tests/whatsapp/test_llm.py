"""The LLM path: OpenAI chat completions with the core's tools (a local fake of the API),
the daily cap, and the offline brain as fallback."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from atende_shared.ordering import tools
from functions.orders.logic.chat_llm import OpenAIChat, tool_schemas
from functions.orders.logic.conversation import handle_message
from tests.whatsapp.chat_fakes import CUSTOMER, World, zapi


class FakeOpenAI(ThreadingHTTPServer):
    """Answers ``POST /v1/chat/completions`` with scripted assistant messages (or
    statuses) and keeps every request body and Authorization header."""

    def __init__(self) -> None:
        self.script: list[dict[str, Any] | int] = []
        self.requests: list[tuple[str, dict[str, Any]]] = []
        super().__init__(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1/chat/completions"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenAI

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((self.headers.get("Authorization", ""), body))
        step = self.server.script.pop(0) if self.server.script else 500
        if isinstance(step, int):
            payload, status = b'{"error": {"message": "scripted failure"}}', step
        else:
            payload = json.dumps({"choices": [{"message": step}]}).encode()
            status = 200
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def _call(tool: str, **arguments: Any) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{tool}",
                "type": "function",
                "function": {"name": tool, "arguments": json.dumps(arguments)},
            }
        ],
    }


def _cart(world: World) -> list[tuple[str, str | None, int]]:
    session = world.store.get_session("demo-pizzaria", CUSTOMER)
    assert session is not None
    return [(ln["item_id"], ln["option_id"], ln["quantity"]) for ln in session.state["cart"]]


def _text(content: str) -> dict[str, Any]:
    return {"role": "assistant", "content": content}


@pytest.fixture
def openai() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def world(openai: FakeOpenAI) -> World:
    world = World()
    world.chat = OpenAIChat(api_key="sk-test", url=openai.url, timeout_seconds=5)
    return world


def test_the_tools_offered_are_the_voice_agents_tools() -> None:
    agent = Path(__file__).parents[2] / "voice_fargate" / "agent.py"
    voice_tools = re.findall(
        r"@function_tool\s+async def (\w+)\(", agent.read_text(encoding="utf-8")
    )
    assert sorted(t["function"]["name"] for t in tool_schemas()) == sorted(voice_tools)
    add = next(t for t in tool_schemas() if t["function"]["name"] == "add_item")
    assert add["function"]["parameters"]["required"] == ["item_id"]
    assert {"item_id", "quantity", "option_id"} <= set(add["function"]["parameters"]["properties"])
    # the model can never name a price: no argument of any tool carries an amount
    arguments = {a for t in tool_schemas() for a in t["function"]["parameters"]["properties"]}
    assert not {a for a in arguments if any(w in a for w in ("price", "total", "amount"))}


def test_the_llm_takes_the_turn_through_the_cores_tools(world: World, openai: FakeOpenAI) -> None:
    openai.script = [
        _call("add_item", item_id="coca-cola-2l", quantity=2),
        _text("Anotei 2 Cocas!"),
    ]
    assert handle_message(zapi("duas cocas de 2 litros"), world.deps()) == "answered"
    # The reply is the model's; the cart is the core's, priced from the menu
    assert world.gateway.texts()[-1].endswith("Anotei 2 Cocas!")
    assert _cart(world) == [("coca-cola-2l", None, 2)]
    # The request: the key, the core's tools, the system prompt, then the tool result fed back
    auth, first = openai.requests[0]
    assert auth == "Bearer sk-test"
    assert {t["function"]["name"] for t in first["tools"]} >= {"add_item", "confirm_order"}
    assert first["messages"][0]["role"] == "system"
    assert "WhatsApp" in first["messages"][0]["content"]
    _, second = openai.requests[1]
    tool_result = second["messages"][-1]
    assert tool_result["role"] == "tool"
    assert "R$ 28,00" in tool_result["content"]
    # and the conversation is remembered for the next turn
    openai.script = [_text("Mais alguma coisa?")]
    handle_message(zapi("obrigado"), world.deps())
    history = openai.requests[2][1]["messages"]
    assert [m["role"] for m in history[1:]] == ["user", "assistant", "user"]


def test_an_llm_failure_falls_back_to_the_offline_brain_from_the_same_cart(
    world: World, openai: FakeOpenAI
) -> None:
    # The model adds an item, then the API fails mid-turn
    openai.script = [_call("add_item", item_id="coca-cola-2l"), 500]
    assert handle_message(zapi("quero uma coca 2 litros"), world.deps()) == "answered"
    # The brain answered from the cart as it was before the turn: one coke, not two
    assert _cart(world) == [("coca-cola-2l", None, 1)]
    assert "Anotado: 1x Coca-Cola 2L" in world.gateway.texts()[-1]


def test_over_the_daily_cap_the_offline_brain_answers_without_calling_the_llm(
    world: World, openai: FakeOpenAI
) -> None:
    tenant = world.tenants.tenant
    world.tenants.tenant = tenant.model_copy(
        update={"whatsapp": tenant.whatsapp.model_copy(update={"daily_llm_turn_cap": 1})}
    )
    openai.script = [_text("Olá! O que vai ser?")]
    handle_message(zapi("oi"), world.deps())
    assert len(openai.requests) == 1
    handle_message(zapi("quero uma coca 2 litros"), world.deps())
    assert len(openai.requests) == 1  # capped: not called
    assert "Anotado: 1x Coca-Cola 2L" in world.gateway.texts()[-1]
    world.clock.advance(days=1)
    openai.script = [_text("Bom dia!")]
    handle_message(zapi("bom dia"), world.deps())
    assert len(openai.requests) == 2  # a new day, a new allowance


def test_an_order_confirmed_by_the_llm_is_the_same_order_placed(
    world: World, openai: FakeOpenAI
) -> None:
    # (a richer core also wants the payment and a name before it confirms)
    extra = [
        _call(name, **arguments)
        for name, arguments in (
            ("set_payment", {"method": "pix"}),
            ("set_customer_name", {"name": "Ana"}),
        )
        if hasattr(tools, name)
    ]
    openai.script = [
        _call("add_item", item_id="pizza-calabresa", option_id="media"),
        _call("set_fulfilment", method="pickup"),
        *extra,
        _call("confirm_order"),
        _text("Pedido confirmado!"),
    ]
    assert (
        handle_message(zapi("uma calabresa média pra retirar, pode confirmar"), world.deps())
        == "ordered"
    )
    [order] = world.publisher.orders
    assert (order.channel, order.fulfilment, order.total_cents) == ("whatsapp", "pickup", 3_990)
