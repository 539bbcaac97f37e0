"""The fake gateways answer as the documented APIs do (sources in atende_local.fake_whatsapp
and atende_shared.whatsapp.clients): these are the shapes the clients are built against."""

from __future__ import annotations

import httpx
import pytest

from atende_local.fake_whatsapp import FakeWhatsAppServer
from tests.whatsapp.conftest import EVOLUTION, EVOLUTION_V1, GLOBAL_KEY, ZAPI

ZAPI_PATH = f"/instances/{ZAPI.instance_id}/token/{ZAPI.instance_token}/send-text"


def _post(gateway: FakeWhatsAppServer, path: str, **kwargs: object) -> httpx.Response:
    return httpx.post(gateway.url + path, timeout=5, **kwargs)  # type: ignore[arg-type]


def test_zapi_send_text_answers_ids_and_records(gateway: FakeWhatsAppServer) -> None:
    # When a documented send-text request arrives
    answer = _post(
        gateway,
        ZAPI_PATH,
        json={"phone": "5511999999999", "message": "Welcome to *Z-API*"},
        headers={"Client-Token": ZAPI.client_token},
    )
    # Then it answers 200 {zaapId, messageId, id} with id == messageId (docs: "compatibilidade")
    assert answer.status_code == 200
    body = answer.json()
    assert set(body) == {"zaapId", "messageId", "id"}
    assert body["id"] == body["messageId"]
    # And the message is recorded with the WhatsApp id the echo will carry
    [sent] = gateway.fake.sent()
    assert sent["gateway"] == "zapi"
    assert (sent["to"], sent["text"], sent["message_id"]) == (
        "5511999999999",
        "Welcome to *Z-API*",
        body["messageId"],
    )


@pytest.mark.parametrize(
    ("path", "headers", "body", "status", "error"),
    [
        (ZAPI_PATH, {}, {"phone": "5511999999999", "message": "x"}, 400, "null not allowed"),
        (
            ZAPI_PATH,
            {"Client-Token": "wrong"},
            {"phone": "5511999999999", "message": "x"},
            401,
            "your client-token is not configured",
        ),
        (
            f"/instances/{ZAPI.instance_id}/token/wrong/send-text",
            {"Client-Token": ZAPI.client_token},
            {"phone": "5511999999999", "message": "x"},
            404,
            "Instance not found",
        ),
        (ZAPI_PATH, {"Client-Token": ZAPI.client_token}, {"message": "x"}, 400, "phone"),
        (ZAPI_PATH, {"Client-Token": ZAPI.client_token}, {"phone": "5511"}, 400, "message"),
    ],
)
def test_zapi_refusals(
    gateway: FakeWhatsAppServer,
    path: str,
    headers: dict[str, str],
    body: dict[str, str],
    status: int,
    error: str,
) -> None:
    answer = _post(gateway, path, json=body, headers=headers)
    assert answer.status_code == status
    assert error in answer.json()["error"]
    assert gateway.fake.sent() == []


def test_zapi_refuses_a_body_that_is_not_json(gateway: FakeWhatsAppServer) -> None:
    answer = _post(
        gateway,
        ZAPI_PATH,
        content=b"phone=1",
        headers={"Client-Token": ZAPI.client_token, "Content-Type": "text/plain"},
    )
    assert answer.status_code == 415


def test_evolution_v2_send_text_answers_the_message_key(gateway: FakeWhatsAppServer) -> None:
    answer = _post(
        gateway,
        f"/message/sendText/{EVOLUTION.name}",
        json={"number": "5511999999999", "text": "Olá"},
        headers={"apikey": EVOLUTION.apikey},
    )
    assert answer.status_code == 201
    body = answer.json()
    assert body["key"]["fromMe"] is True
    assert body["key"]["remoteJid"] == "5511999999999@s.whatsapp.net"
    assert body["status"] == "PENDING"
    [sent] = gateway.fake.sent()
    assert (sent["gateway"], sent["text"], sent["message_id"]) == (
        "evolution",
        "Olá",
        body["key"]["id"],
    )


def test_evolution_v1_takes_the_wrapped_text(gateway: FakeWhatsAppServer) -> None:
    answer = _post(
        gateway,
        f"/message/sendText/{EVOLUTION_V1.name}",
        json={"number": "5511999999999", "textMessage": {"text": "Olá v1"}},
        headers={"apikey": EVOLUTION_V1.apikey},
    )
    assert answer.status_code == 201
    assert gateway.fake.sent()[0]["api_version"] == "v1"


def _evolution_error(answer: httpx.Response) -> object:
    body = answer.json()
    assert set(body) == {"status", "error", "response"}
    assert body["status"] == answer.status_code
    return body["response"]["message"]


@pytest.mark.parametrize(
    ("instance", "key", "body", "status", "needle"),
    [
        (EVOLUTION.name, None, {"number": "5511999999999", "text": "x"}, 401, "Unauthorized"),
        (EVOLUTION.name, "wrong", {"number": "5511999999999", "text": "x"}, 401, "Unauthorized"),
        # the auth guard runs before the instance guard: an instance key for an unknown
        # instance is unauthorised; only the global key learns that it does not exist
        ("nope", EVOLUTION.apikey, {"number": "5511999999999", "text": "x"}, 401, "Unauth"),
        ("nope", GLOBAL_KEY, {"number": "5511999999999", "text": "x"}, 404, "does not exist"),
        (
            EVOLUTION.name,
            EVOLUTION.apikey,
            {"number": "5511999999999", "textMessage": {"text": "x"}},
            400,
            'requires property "text"',
        ),
        (
            EVOLUTION_V1.name,
            EVOLUTION_V1.apikey,
            {"number": "5511999999999", "text": "x"},
            400,
            'requires property "textMessage"',
        ),
        (EVOLUTION.name, EVOLUTION.apikey, {"number": "123", "text": "x"}, 400, "'exists': False"),
    ],
)
def test_evolution_refusals(
    gateway: FakeWhatsAppServer,
    instance: str,
    key: str | None,
    body: dict[str, object],
    status: int,
    needle: str,
) -> None:
    headers = {"apikey": key} if key else {}
    answer = _post(gateway, f"/message/sendText/{instance}", json=body, headers=headers)
    assert answer.status_code == status
    assert needle in str(_evolution_error(answer))
    assert gateway.fake.sent() == []


def test_injected_faults_answer_then_recover(gateway: FakeWhatsAppServer) -> None:
    gateway.fake.fail_next(503)
    path, headers = ZAPI_PATH, {"Client-Token": ZAPI.client_token}
    first = _post(gateway, path, json={"phone": "5511999999999", "message": "a"}, headers=headers)
    second = _post(gateway, path, json={"phone": "5511999999999", "message": "a"}, headers=headers)
    assert (first.status_code, second.status_code) == (503, 200)
    assert len(gateway.fake.sent()) == 1
