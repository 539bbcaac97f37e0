"""Billing end to end through the local gateway, over HTTP only: signed LiveKit events for
one call and a signed Asaas payment go through webhook ingress, the queues and the
billing consumers; the admin API then shows the ledger, the balance and the call."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from livekit.api import AccessToken

from tests.e2e.conftest import PlatformClient

pytestmark = pytest.mark.e2e

CALL_SECONDS = 90


def _livekit(platform: PlatformClient, data: dict[str, Any]) -> None:
    keys = platform.livekit
    body = json.dumps(data).encode()
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    token = (
        AccessToken(keys["api_key"], keys["api_secret"])
        .with_ttl(timedelta(minutes=5))
        .with_sha256(digest)
        .to_jwt()
    )
    answer = platform.http.post(
        "/webhooks/livekit",
        content=body,
        headers={"Content-Type": "application/webhook+json", "Authorization": token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "accepted"


def _call_events(room: str, joined: datetime) -> list[dict[str, Any]]:
    """A SIP call as LiveKit reports it (delivered here out of order on purpose)."""
    participant = {
        "sid": "PA_e2ecaller",
        "identity": "sip_+5511988887777",
        "kind": "SIP",
        "joinedAt": str(int(joined.timestamp())),
        "attributes": {
            "sip.callID": f"SCL_{room[-8:]}",
            "sip.phoneNumber": "+5511988887777",
            "sip.trunkPhoneNumber": "+551130000000",
        },
    }
    left = joined + timedelta(seconds=CALL_SECONDS)

    def event(name: str, at: datetime, **extra: Any) -> dict[str, Any]:
        return {
            "event": name,
            "id": f"EV_{uuid.uuid4().hex[:12]}",
            "createdAt": str(int(at.timestamp())),
            "room": {"sid": f"RM_{room[-8:]}", "name": room},
            **extra,
        }

    return [
        event("participant_left", left, participant=participant),
        event("room_started", joined - timedelta(seconds=1)),
        event("participant_joined", joined, participant=participant),
        event("room_finished", left + timedelta(seconds=2)),
    ]


def _admin(platform: PlatformClient, path: str, **params: str) -> Any:
    answer = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}{path}", headers=platform.admin, params=params
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _every(platform: PlatformClient, path: str) -> list[dict[str, Any]]:
    """Every item of a list route, following ``next_cursor`` (the one list convention)."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = _admin(platform, path, limit="100", **({"cursor": cursor} if cursor else {}))
        entries.extend(page["items"])
        cursor = page["next_cursor"]
        if not cursor:
            return entries


def _ledger(platform: PlatformClient) -> list[dict[str, Any]]:
    return _every(platform, "/ledger")


def test_call_and_payment_reach_the_ledger_balance_and_calls(platform: PlatformClient) -> None:
    tenant = platform.demo_tenant_id
    payment_id = f"pay_{uuid.uuid4().hex[:10]}"
    room = f"atd_{tenant}_e2ebill{uuid.uuid4().hex[:6]}"

    # Given the tenant's Asaas customer (payments from any other customer are refused)
    profile = platform.http.get(f"/v1/tenants/{tenant}", headers=platform.admin)
    assert profile.status_code == 200, profile.text
    customer = profile.json()["integrations"]["payment_customer_id"] or "cus_e2e"
    # And a signed Asaas payment of R$ 30.00, delivered twice (confirmed, then received)
    for kind in ("PAYMENT_CONFIRMED", "PAYMENT_RECEIVED"):
        asaas = {
            "id": f"evt_{uuid.uuid4().hex}",
            "event": kind,
            "dateCreated": (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S"),
            "payment": {
                "id": payment_id,
                "customer": customer,
                "value": 30.0,
                "status": kind.removeprefix("PAYMENT_"),
            },
        }
        answer = platform.http.post(
            f"/webhooks/asaas/{tenant}",
            content=json.dumps(asaas).encode(),
            headers={
                "Content-Type": "application/json",
                "asaas-access-token": platform.demo_secrets["asaas"]["webhook_token"],
            },
        )
        assert answer.status_code == 200, answer.text
    # And a 90-second SIP call, its LiveKit events signed and delivered out of order
    joined = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=CALL_SECONDS + 5)
    for data in _call_events(room, joined):
        _livekit(platform, data)

    # When the queues have been pumped into billing, the call is rated ...
    def rated_call() -> dict[str, Any] | None:
        calls = _every(platform, "/calls")
        mine = [c for c in calls if c["room_name"] == room and c["status"] == "rated"]
        return mine[0] if mine else None

    call = platform.wait_for(rated_call, timeout=60)
    assert call["duration_seconds"] == CALL_SECONDS
    assert call["caller_number"] == "+5511988887777"
    assert call["amount_cents"] > 0
    assert call["reserved_cents"] == 0

    # ... the payment is credited once and the call charged once in the ledger ...
    def settled() -> list[dict[str, Any]] | None:
        entries = _ledger(platform)
        credited = [e for e in entries if e["business_id"] == f"payment:asaas:{payment_id}"]
        return entries if credited else None

    entries = platform.wait_for(settled, timeout=60)
    credits = [e for e in entries if e["business_id"] == f"payment:asaas:{payment_id}"]
    charges = [e for e in entries if e["business_id"] == f"call:{room}"]
    assert [e["amount_cents"] for e in credits] == [3_000]
    assert [e["amount_cents"] for e in charges] == [-call["amount_cents"]]

    # ... and the balance is the sum of the ledger (no reservation left for this call)
    def consistent() -> dict[str, Any] | None:
        balance = _admin(platform, "/balance")
        total = sum(e["amount_cents"] for e in _ledger(platform))
        return balance if balance["balance_cents"] == total else None

    balance = platform.wait_for(consistent, timeout=30)
    assert balance["tenant_id"] == tenant
