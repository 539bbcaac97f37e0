"""WhatsApp ordering through the local platform, over HTTP only: webhook deliveries exactly
as Z-API and Evolution v1/v2 post them → ingress → the messaging FIFO queue → the
conversation consumer on the ordering core → replies received by the fake gateways, and
the order placed (OrderPlaced → the orders queue, whose write-back record is readable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from atende_local.chat import ChatSession, run_script, zapi_delivery
from functions.wiring import FUNCTIONS
from tests.e2e.conftest import PlatformClient
from tests.whatsapp.chat_fakes import answer_to

pytestmark = pytest.mark.e2e

ORDER_SCRIPT = [
    "oi",
    "quero uma pizza margherita grande",
    "e uma coca 2 litros",
    "só isso",
    "entrega",
    "Rua das Flores, 123",
]


def _session(platform: PlatformClient, gateway: str, phone: str) -> ChatSession:
    integration = "zapi" if gateway == "zapi" else "evolution"
    field = "client_token" if gateway == "zapi" else "apikey"
    return ChatSession(
        base_url=platform.base_url,
        token=platform.token,
        tenant_id=platform.demo_tenant_id,
        phone=phone,
        gateway=gateway,
        secret=platform.demo_secrets[integration][field],
    )


def _eventually(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _orders_route() -> str | None:
    """The orders API's read-one route, once the orders domain declares it."""
    for spec in FUNCTIONS:
        for route in spec.routes:
            if route.method == "GET" and route.path == "/v1/tenants/{tenant_id}/orders/{order_id}":
                return route.path
    return None


@pytest.mark.parametrize(
    ("gateway", "phone"),
    [
        ("zapi", "5511970000001"),
        ("evolution-v2", "5511970000002"),
        ("evolution-v1", "5511970000003"),
    ],
)
def test_a_scripted_whatsapp_conversation_ends_in_the_exact_order(
    platform: PlatformClient, gateway: str, phone: str
) -> None:
    session = _session(platform, gateway, phone)
    # When the customer writes the script through the gateway's webhook, then answers
    # whatever the ordering core still asks (neighbourhood, payment, name, confirmation)
    result = run_script(session, ORDER_SCRIPT, echo=False)
    for _ in range(6):
        answer = answer_to(result["transcript"][-1]["bot"])
        if answer is None:
            break
        more = run_script(session, [answer], echo=False)
        result = {**more, "transcript": result["transcript"] + more["transcript"]}
    # Then every line got one reply, and the last one is the confirmation
    bot = [turn["bot"] for turn in result["transcript"]]
    assert all(bot), result["transcript"]
    assert "R$ 68,90" in bot[3]
    assert bot[-1].startswith("Pedido confirmado!")
    confirmation = next(m for m in session.sent() if m["text"].startswith("Pedido confirmado!"))
    assert confirmation["gateway"] == ("zapi" if gateway == "zapi" else "evolution")
    assert confirmation["to"] == phone
    # And the order was placed: the conversation links it, and OrderPlaced reached the
    # orders queue (its ERP write-back record exists)
    order_id = result["conversation"]["order_id"]
    assert order_id, result["conversation"]
    admin = platform.admin
    tenant = platform.demo_tenant_id
    synced = _eventually(
        lambda: (
            platform.http.get(
                f"/v1/tenants/{tenant}/orders/{order_id}/sync", headers=admin
            ).status_code
            == 200
        )
    )
    assert synced
    route = _orders_route()
    if route is not None:  # the orders domain's record, when it is wired
        path = route.replace("{tenant_id}", tenant).replace("{order_id}", order_id)
        order = _eventually(lambda: platform.http.get(path, headers=admin))
        body = order.json()
        assert body["channel"] == "whatsapp"
        assert body["total_cents"] == 6_890 + body.get("delivery_fee_cents", 0)
        assert [(ln["item_id"], ln["quantity"]) for ln in body["lines"]] == [
            ("pizza-margherita", 1),
            ("coca-cola-2l", 1),
        ]


def test_three_quick_messages_are_answered_in_order_once_each(platform: PlatformClient) -> None:
    session = _session(platform, "zapi", "5511970000004")
    lines = ["quero uma pizza calabresa media", "e um guaraná", "e uma água"]
    for line in lines:  # within a second, without waiting for replies
        assert session.deliver(line).status_code == 200
    replies = _eventually(lambda: len(session.sent()) >= 3 and session.sent())
    time.sleep(1.5)  # nothing more arrives
    texts = [m["text"] for m in session.sent()]
    assert len(texts) == 3, texts
    assert "Calabresa" in texts[0]
    assert "Guaraná" in texts[1]
    assert "Água" in texts[2]
    assert replies


def test_the_same_delivery_twice_is_answered_once_and_our_echo_never(
    platform: PlatformClient,
) -> None:
    session = _session(platform, "zapi", "5511970000005")
    body = zapi_delivery("quero uma coca 2 litros", phone=session.phone)
    headers = {"Client-Token": session.secret}
    path = f"/webhooks/zapi/{session.tenant_id}"
    assert platform.http.post(path, json=body, headers=headers).status_code == 200
    assert platform.http.post(path, json=body, headers=headers).status_code == 200
    [reply] = _eventually(lambda: session.sent())
    # The fake gateway posts each reply's fromMe echo back (as Z-API does): never answered
    echo = zapi_delivery(".", phone=session.phone, message_id=reply["message_id"], from_me=True)
    echo["text"] = {"message": reply["text"]}
    assert platform.http.post(path, json=echo, headers=headers).status_code == 200
    time.sleep(2.0)
    assert len(session.sent()) == 1


def test_the_admin_pauses_and_resumes_a_conversation(platform: PlatformClient) -> None:
    session = _session(platform, "evolution-v2", "5511970000006")
    route = f"/v1/tenants/{session.tenant_id}/whatsapp/conversations/{session.phone}"
    paused = platform.http.post(f"{route}/pause", json={"hours": 1}, headers=platform.admin)
    assert paused.status_code == 200, paused.text
    assert paused.json()["paused"] is True
    assert session.deliver("quero uma coca 2 litros").status_code == 200
    time.sleep(2.0)
    assert session.sent() == []  # a person has the conversation
    resumed = platform.http.post(f"{route}/resume", headers=platform.admin)
    assert resumed.json()["paused"] is False
    assert session.deliver("quero uma coca 2 litros").status_code == 200
    assert _eventually(lambda: session.sent())
    view = platform.http.get(route, headers=platform.admin).json()
    assert view["cart_items"] == 1
    unknown = platform.http.get(
        f"/v1/tenants/nope-tenant/whatsapp/conversations/{session.phone}", headers=platform.admin
    )
    assert unknown.status_code == 404


def test_odd_input_through_the_platform_never_sticks(platform: PlatformClient) -> None:
    session = _session(platform, "evolution-v1", "5511970000007")
    result = run_script(
        session,
        ["@audio", "", "😀😀😀", "x" * 4_000, "@location -23.5613,-46.6565 Av. Paulista, 1000"],
        echo=False,
    )
    bot = [turn.get("bot") for turn in result["transcript"]]
    assert "áudio" in bot[0]
    # the location is the address: the bot takes it (and asks what the zone still needs)
    assert "Paulista" in bot[-1] or "bairro" in bot[-1]
    assert "endereço" not in bot[-1]
    after = run_script(session, ["quero uma coca 2 litros"], echo=False)
    assert "Coca-Cola 2L" in after["transcript"][0]["bot"]


def test_a_person_replying_from_the_restaurants_phone_pauses_the_bot(
    platform: PlatformClient,
) -> None:
    session = _session(platform, "zapi", "5511970000008")
    assert session.deliver("quero uma coca 2 litros").status_code == 200
    assert _eventually(lambda: session.sent())
    # When a person types on the restaurant's phone (Z-API posts it with fromMe, not fromApi)
    human = zapi_delivery("Oi! Aqui é a Maria, da pizzaria", phone=session.phone, from_me=True)
    human["fromApi"] = False
    answer = platform.http.post(
        f"/webhooks/zapi/{session.tenant_id}", json=human, headers={"Client-Token": session.secret}
    )
    assert answer.json() == {"status": "accepted"}
    # Then the conversation is paused and the customer's next message is left to her
    route = f"/v1/tenants/{session.tenant_id}/whatsapp/conversations/{session.phone}"
    assert _eventually(lambda: platform.http.get(route, headers=platform.admin).json()["paused"])
    assert session.deliver("e um guaraná").status_code == 200
    time.sleep(2.0)
    assert len(session.sent()) == 1
    # And the admin's resume gives it back to the bot
    platform.http.post(f"{route}/resume", headers=platform.admin)
    assert session.deliver("e uma água").status_code == 200
    assert _eventually(lambda: len(session.sent()) == 2)


def test_atende_chat_plays_a_script_against_the_platform(
    platform: PlatformClient, tmp_path: Path
) -> None:
    # Given a script file and the running platform's state (as `make run` writes it)
    script = tmp_path / "chat.txt"
    script.write_text("# a comment\nquero uma coca 2 litros\n\n@audio\n", encoding="utf-8")
    (tmp_path / "local.json").write_text(json.dumps(platform.state), encoding="utf-8")
    env = {**os.environ, "ATENDE_STATE_DIR": str(tmp_path)}
    # When `atende chat` runs it as an Evolution v1 customer
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "atende_local.cli",
            "chat",
            "--script",
            str(script),
            "--gateway",
            "evolution-v1",
            "--phone",
            "5511970000009",
            "--json",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    # Then it printed each line's reply and the conversation
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    [coke, audio] = result["transcript"]
    assert "Coca-Cola 2L" in coke["bot"]
    assert "áudio" in audio["bot"]
    assert result["conversation"]["cart_items"] == 1
