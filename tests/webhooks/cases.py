"""How each provider signs a delivery, with the real libraries, and a valid payload for it.

A ``Case`` knows one provider's route, secret field, a valid body, and how to turn
(tenant, secret, body) into the request that provider would send.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from livekit.api import AccessToken
from standardwebhooks import Webhook

from atende_shared.resources import Queue

LIVEKIT_KEY = "APItestkey"
LIVEKIT_SECRET = "livekit-test-secret-with-enough-entropy-0123456789"


@dataclass
class Req:
    path: str
    path_params: dict[str, str]
    headers: dict[str, str]
    body: bytes
    query: dict[str, str] = field(default_factory=dict)


def now_brt() -> str:
    """``YYYY-MM-DD HH:MM:SS`` in Brasília time, as Bling and Asaas write dates."""
    return (datetime.now(UTC) - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")


def encode(data: dict[str, Any] | bytes) -> bytes:
    return data if isinstance(data, bytes) else json.dumps(data).encode()


# -- signers ---------------------------------------------------------------------------------


def livekit_token(
    body: bytes,
    *,
    key: str = LIVEKIT_KEY,
    secret: str = LIVEKIT_SECRET,
    ttl: timedelta = timedelta(minutes=5),
) -> str:
    digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return AccessToken(key, secret).with_ttl(ttl).with_sha256(digest).to_jwt()


def bling_signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def standard_headers(
    body: bytes, secret: str | list[str], *, msg_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    at = at or datetime.now(UTC)
    keys = secret if isinstance(secret, list) else [secret]
    signatures = " ".join(Webhook(k).sign(msg_id, at, body.decode()) for k in keys)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def new_custom_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


# -- payloads ----------------------------------------------------------------------------------


def livekit_event(tenant: str, event: str = "participant_joined") -> dict[str, Any]:
    return {
        "event": event,
        "id": f"EV_{uuid.uuid4().hex[:12]}",
        "createdAt": str(int(datetime.now(UTC).timestamp())),
        "room": {"sid": "RM_x1", "name": f"atd_{tenant}_call-{uuid.uuid4().hex[:6]}"},
        "participant": {
            "sid": "PA_1",
            "identity": "sip_+5511999990000",
            "attributes": {"sip.callID": "SCL_1", "sip.trunkPhoneNumber": "+551130000000"},
        },
    }


def bling_event(tenant: str) -> dict[str, Any]:
    return {
        "eventId": str(uuid.uuid4()),
        "date": now_brt(),
        "version": "v1",
        "event": "stock.updated",
        "companyId": "d4475854366a36c86a37e792f9634a51",
        "data": {"produto": {"id": 16526611520}, "deposito": {"id": 1}, "saldoFisicoTotal": 12.0},
    }


def asaas_event(tenant: str) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}&368604920",
        "event": "PAYMENT_RECEIVED",
        "dateCreated": now_brt(),
        "payment": {"id": "pay_080225913252", "value": 100.0, "externalReference": tenant},
    }


def pluggto_event(tenant: str) -> dict[str, Any]:
    return {
        "type": "products",
        "id": uuid.uuid4().hex,
        "action": "updated",
        "user": 1234,
        "changes": {"status": False, "stock": True, "price": False},
    }


def zapi_event(tenant: str, *, from_me: bool = False) -> dict[str, Any]:
    return {
        "type": "ReceivedCallback",
        "instanceId": "A20DA9C0183A2D35A260F53F5D2B9244",
        "messageId": uuid.uuid4().hex.upper(),
        "phone": "5511999990000",
        "fromMe": from_me,
        "momment": int(datetime.now(UTC).timestamp() * 1000),
        "status": "RECEIVED",
        "text": {"message": "quero uma pizza"},
    }


def evolution_event(tenant: str, *, from_me: bool = False) -> dict[str, Any]:
    return {
        "event": "messages.upsert",
        "instance": f"{tenant}-wa",
        "data": {
            "key": {
                "remoteJid": "5511999990000@s.whatsapp.net",
                "fromMe": from_me,
                "id": uuid.uuid4().hex.upper(),
            },
            "pushName": "Cliente",
            "message": {"conversation": "oi"},
            "messageTimestamp": int(datetime.now(UTC).timestamp()),
        },
        "date_time": datetime.now(UTC).isoformat(),
        "sender": "5511888880000@s.whatsapp.net",
    }


def custom_event(tenant: str) -> dict[str, Any]:
    return {"type": "payment.settled", "data": {"amount_cents": 1500, "ref": uuid.uuid4().hex}}


# -- cases --------------------------------------------------------------------------------------


Maker = Callable[[str, str, dict[str, Any] | bytes], Req]


def _headers(content_type: str = "application/json") -> dict[str, str]:
    return {"Content-Type": content_type, "User-Agent": "tests"}


def _livekit(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    body = encode(data)
    headers = _headers("application/webhook+json")
    headers["Authorization"] = livekit_token(body, secret=secret)
    return Req("/webhooks/livekit", {}, headers, body)


def _bling(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    body = encode(data)
    headers = _headers() | {"X-Bling-Signature-256": bling_signature(body, secret)}
    return Req(f"/webhooks/bling/{tenant}", {"tenant_id": tenant}, headers, body)


def _asaas(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    headers = _headers() | {"asaas-access-token": secret}
    return Req(f"/webhooks/asaas/{tenant}", {"tenant_id": tenant}, headers, encode(data))


def _pluggto(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    return Req(
        f"/webhooks/pluggto/{tenant}/{secret}",
        {"tenant_id": tenant, "path_secret": secret},
        _headers(),
        encode(data),
    )


def _zapi(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    headers = _headers() | {"Client-Token": secret}
    return Req(f"/webhooks/zapi/{tenant}", {"tenant_id": tenant}, headers, encode(data))


def _evolution(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    headers = _headers()
    if isinstance(data, dict):
        body = encode({**data, "apikey": secret})  # Evolution puts the key in the body
    else:
        body = data
        headers["apikey"] = secret
    return Req(f"/webhooks/evolution/{tenant}", {"tenant_id": tenant}, headers, body)


def _custom(tenant: str, secret: str, data: dict[str, Any] | bytes) -> Req:
    body = encode(data)
    # A sender redelivering an event reuses its webhook-id (and body): derive one from it.
    msg_id = "msg_" + hashlib.sha256(body).hexdigest()[:24]
    headers = _headers() | standard_headers(body, secret, msg_id=msg_id)
    return Req(f"/webhooks/custom/{tenant}", {"tenant_id": tenant}, headers, body)


@dataclass(frozen=True)
class Case:
    provider: str
    queue: Queue
    integration: str | None  # None: platform-wide secret (LiveKit)
    secret_field: str | None
    make: Maker
    payload: Callable[[str], dict[str, Any]]
    auth_header: str | None  # the header whose absence must be refused
    signs_body: bool  # a body change breaks authentication
    dedupes: bool = True
    new_secret: Callable[[], str] = lambda: secrets.token_urlsafe(24)

    def __str__(self) -> str:
        return self.provider


CASES: tuple[Case, ...] = (
    Case("livekit", Queue.CALLS, None, None, _livekit, livekit_event, "Authorization", True),
    Case(
        "bling",
        Queue.CATALOG,
        "bling",
        "client_secret",
        _bling,
        bling_event,
        "X-Bling-Signature-256",
        True,
    ),
    Case(
        "asaas",
        Queue.PAYMENTS,
        "asaas",
        "webhook_token",
        _asaas,
        asaas_event,
        "asaas-access-token",
        False,
    ),
    Case(
        "pluggto",
        Queue.CATALOG,
        "pluggto",
        "path_secret",
        _pluggto,
        pluggto_event,
        None,
        False,
        dedupes=False,
    ),
    Case("zapi", Queue.MESSAGING, "zapi", "client_token", _zapi, zapi_event, "Client-Token", False),
    Case(
        "evolution",
        Queue.MESSAGING,
        "evolution",
        "apikey",
        _evolution,
        evolution_event,
        None,
        False,
    ),
    Case(
        "custom",
        Queue.PAYMENTS,
        "custom",
        "signing_secret",
        _custom,
        custom_event,
        "webhook-signature",
        True,
        new_secret=new_custom_secret,
    ),
)
CASE_IDS = [c.provider for c in CASES]
TENANT_CASES = tuple(c for c in CASES if c.integration is not None)
