"""Webhook ingress through the local gateway, over HTTP only: the real handler behind the
gateway's API Gateway events, the demo tenant's secrets, and the queue pumps behind it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from livekit.api import AccessToken
from standardwebhooks import Webhook

from tests.e2e.conftest import PlatformClient

pytestmark = pytest.mark.e2e


def _brt_now() -> str:
    return (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")


def _pumped(platform: PlatformClient, queue: str) -> int:
    """Messages the pumps of ``queue`` have handed to a consumer so far."""
    pumps = platform.http.get("/health").json()["components"]["pumps"]
    return sum(
        p["deleted"] + p["failed"] for name, p in pumps.items() if name.startswith(f"{queue}->")
    )


def _post(
    platform: PlatformClient, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return platform.http.post(path, content=body, headers=headers)


def _bling(platform: PlatformClient, data: dict[str, Any], secret: str | None = None):
    body = json.dumps(data).encode()
    key = secret or platform.demo_secrets["bling"]["client_secret"]
    signature = "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
    return _post(
        platform,
        f"/webhooks/bling/{platform.demo_tenant_id}",
        body,
        {"Content-Type": "application/json", "X-Bling-Signature-256": signature},
    )


def _bling_event() -> dict[str, Any]:
    return {
        "eventId": str(uuid.uuid4()),
        "date": _brt_now(),
        "version": "v1",
        "event": "stock.updated",
        "companyId": "demo-company",
        "data": {"produto": {"id": 1}, "deposito": {"id": 1}, "saldoFisicoTotal": 3},
    }


def test_bling_delivery_is_accepted_once_and_reaches_the_catalog_queue(
    platform: PlatformClient,
) -> None:
    # Given the demo tenant's Bling secret and an event Bling sends five times
    before = _pumped(platform, "catalog")
    event = _bling_event()

    # When the five deliveries arrive through the gateway
    answers = [_bling(platform, event) for _ in range(5)]

    # Then the first is accepted, the rest are duplicates, and the queue got the event
    assert [a.status_code for a in answers] == [200] * 5, answers[0].text
    assert [a.json()["status"] for a in answers] == ["accepted"] + ["duplicate"] * 4
    platform.wait_for(lambda: _pumped(platform, "catalog") > before, timeout=30)


def test_concurrent_copies_through_the_gateway_are_accepted_once(
    platform: PlatformClient,
) -> None:
    # Given one Bling event sent five times at once (the gateway runs requests on threads)
    event = _bling_event()
    answers: list[httpx.Response] = []
    barrier = threading.Barrier(5)

    def deliver() -> None:
        barrier.wait()
        answers.append(_bling(platform, event))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then exactly one is accepted; every other one is a duplicate (or told to retry)
    statuses = [a.json().get("status") for a in answers if a.status_code == 200]
    assert statuses.count("accepted") == 1
    assert all(a.status_code in (200, 503) for a in answers)


def test_bling_refusals_through_the_gateway(platform: PlatformClient) -> None:
    tenant = platform.demo_tenant_id
    good = _bling_event()
    # wrong secret → 401 without a reason
    wrong = _bling(platform, good, secret="not-the-secret")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"] == "Unauthorized"
    # unknown tenant → 401 as well (existence not leaked)
    body = json.dumps(good).encode()
    signature = "sha256=" + hmac.new(b"x", body, hashlib.sha256).hexdigest()
    ghost = _post(
        platform,
        "/webhooks/bling/no-such-tenant",
        body,
        {"Content-Type": "application/json", "X-Bling-Signature-256": signature},
    )
    assert ghost.status_code == 401
    # malformed JSON, correctly signed → 400; schema violation → 422; oversized → 413
    raw = b'{"eventId": '
    key = platform.demo_secrets["bling"]["client_secret"].encode()
    headers = {
        "Content-Type": "application/json",
        "X-Bling-Signature-256": "sha256=" + hmac.new(key, raw, hashlib.sha256).hexdigest(),
    }
    assert _post(platform, f"/webhooks/bling/{tenant}", raw, headers).status_code == 400
    missing = {k: v for k, v in good.items() if k != "eventId"}
    assert _bling(platform, missing).status_code == 422
    big = good | {"pad": "x" * (300 * 1024)}
    assert _bling(platform, big).status_code == 413


def test_livekit_delivery_signed_with_the_platform_key(platform: PlatformClient) -> None:
    # Given an event for a room the demo tenant's dispatch rule would create
    keys = platform.livekit
    data = {
        "event": "participant_joined",
        "id": f"EV_{uuid.uuid4().hex[:12]}",
        "createdAt": str(int(datetime.now(UTC).timestamp())),
        "room": {"name": f"atd_{platform.demo_tenant_id}_e2e{uuid.uuid4().hex[:6]}"},
        "participant": {"identity": "sip_caller", "attributes": {"sip.callID": "SCL_e2e"}},
    }
    body = json.dumps(data).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = (
        AccessToken(keys["api_key"], keys["api_secret"])
        .with_ttl(timedelta(minutes=5))
        .with_sha256(digest)
        .to_jwt()
    )
    headers = {"Content-Type": "application/webhook+json", "Authorization": token}

    # When it arrives (and again), then accepted once; a tampered copy is refused
    first = _post(platform, "/webhooks/livekit", body, headers)
    assert first.status_code == 200, first.text
    assert first.json() == {"status": "accepted"}
    assert _post(platform, "/webhooks/livekit", body, headers).json() == {"status": "duplicate"}
    assert _post(platform, "/webhooks/livekit", body + b" ", headers).status_code == 401


def test_custom_standard_webhook_and_its_replay_window(platform: PlatformClient) -> None:
    secret = platform.demo_secrets["custom"]["signing_secret"]
    body = json.dumps({"type": "payment.settled", "data": {"ref": uuid.uuid4().hex}}).encode()
    msg_id = f"msg_{uuid.uuid4().hex}"

    def headers(at: datetime) -> dict[str, str]:
        return {
            "Content-Type": "application/json",
            "webhook-id": msg_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": Webhook(secret).sign(msg_id, at, body.decode()),
        }

    path = f"/webhooks/custom/{platform.demo_tenant_id}"
    stale = _post(platform, path, body, headers(datetime.now(UTC) - timedelta(minutes=10)))
    assert stale.status_code == 401
    fresh = _post(platform, path, body, headers(datetime.now(UTC)))
    assert fresh.status_code == 200, fresh.text
    assert fresh.json() == {"status": "accepted"}


def test_asaas_pluggto_and_whatsapp_gateways(platform: PlatformClient) -> None:
    tenant = platform.demo_tenant_id
    secrets = platform.demo_secrets
    json_headers = {"Content-Type": "application/json"}

    asaas = {
        "id": f"evt_{uuid.uuid4().hex}",
        "event": "PAYMENT_RECEIVED",
        "dateCreated": _brt_now(),
        "payment": {"id": "pay_e2e", "value": 50.0},
    }
    answer = _post(
        platform,
        f"/webhooks/asaas/{tenant}",
        json.dumps(asaas).encode(),
        json_headers | {"asaas-access-token": secrets["asaas"]["webhook_token"]},
    )
    assert answer.status_code == 200, answer.text

    note = {"type": "products", "id": "p1", "action": "updated", "user": 1, "changes": {}}
    path_secret = secrets["pluggto"]["path_secret"]
    ok = _post(
        platform,
        f"/webhooks/pluggto/{tenant}/{path_secret}",
        json.dumps(note).encode(),
        json_headers,
    )
    assert ok.status_code == 200, ok.text
    bad = _post(
        platform, f"/webhooks/pluggto/{tenant}/guessed", json.dumps(note).encode(), json_headers
    )
    assert bad.status_code == 401

    echo = {
        "type": "ReceivedCallback",
        "messageId": uuid.uuid4().hex,
        "fromMe": True,
        "phone": "5511999990000",
        "momment": int(datetime.now(UTC).timestamp() * 1000),
    }
    zapi_headers = json_headers | {"Client-Token": secrets["zapi"]["client_token"]}
    zapi_path = f"/webhooks/zapi/{tenant}"
    # the restaurant's own phone (fromMe) reaches the conversation, which tells our echo
    # from a person's takeover; a status callback is acknowledged and ignored
    from_restaurant = _post(platform, zapi_path, json.dumps(echo).encode(), zapi_headers)
    assert from_restaurant.json() == {"status": "accepted"}
    inbound = _post(
        platform,
        zapi_path,
        json.dumps(echo | {"fromMe": False, "messageId": uuid.uuid4().hex}).encode(),
        zapi_headers,
    )
    assert inbound.json() == {"status": "accepted"}
    status = {"type": "MessageStatusCallback", "status": "READ", "ids": ["X"], "momment": 1}
    ignored = _post(platform, zapi_path, json.dumps(status).encode(), zapi_headers)
    assert ignored.json() == {"status": "ignored"}

    evolution = {
        "event": "messages.upsert",
        "instance": "demo",
        "data": {
            "key": {
                "remoteJid": "5511999990000@s.whatsapp.net",
                "fromMe": False,
                "id": uuid.uuid4().hex,
            },
            "messageTimestamp": int(datetime.now(UTC).timestamp()),
        },
        "apikey": secrets["evolution"]["apikey"],
    }
    evo_path = f"/webhooks/evolution/{tenant}"
    first = _post(platform, evo_path, json.dumps(evolution).encode(), json_headers)
    assert first.status_code == 200, first.text
    wrong = _post(
        platform, evo_path, json.dumps(evolution | {"apikey": "nope"}).encode(), json_headers
    )
    assert wrong.status_code == 401
