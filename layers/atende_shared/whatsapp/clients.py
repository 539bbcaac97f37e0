"""HTTP clients of the two WhatsApp gateways' send-text APIs, with errors classified.

**Z-API** (``Z-API/z-api-docs``, ``docs/message/send-message-text.md``)::

    POST {base}/instances/{instance}/token/{token}/send-text
    Client-Token: <account security token>        (docs/security/client-token.md)
    {"phone": "5511999999999", "message": "Welcome to *Z-API*"}
    200 {"zaapId": "3999984263738042930CD6ECDE9VDWSA", "messageId": "D241XXXX732339502B68",
         "id": "D241XXXX732339502B68"}   # messageId/id: "id no whatsapp"

The ``messageId`` is the WhatsApp id the ``fromMe`` echo carries, so it is the one recorded.
A request without the account token is answered ``{"error": "null not allowed"}``
(docs/security/client-token.md); errors are ``{"error": "..."}``.

**Evolution API** (``EvolutionAPI/evolution-api``; the node-red and Laravel clients agree)::

    POST {base}/message/sendText/{instance}
    apikey: <instance or global key>             (src/api/guards/auth.guard.ts: req.get('apikey'))
    v2: {"number": "5511999999999", "text": "..."}
    v1: {"number": "5511999999999", "textMessage": {"text": "..."}}

A v2 server refuses the v1 body with ``400 {"status":400,"error":"Bad Request","response":
{"message":[["instance requires property \\"text\\""]]}}`` (evolution-api issue #2570) and a
v1 server the v2 body with ``instance requires property "textMessage"`` (issue #6 of
evolution-client-python). Every error has that ``{status, error, response: {message}}``
shape (src/main.ts error handler); an unknown instance is ``404 The "<name>" instance does
not exist`` (src/api/guards/instance.guard.ts), a wrong key ``401 Unauthorized``
(auth.guard.ts), a number not on WhatsApp ``400`` with ``[{"exists": false, ...}]``
(issue #2308). The answer carries ``key.id``, the id of the ``fromMe`` echo.

Classification: timeouts, connection errors, 408, 425, 429 and 5xx are *transient* (worth a
retry); every other non-2xx (400, 401, 403, 404, 422...) is *permanent* — retrying a wrong
token or an unknown number only repeats the refusal.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any, Literal

import httpx

from atende_shared.whatsapp import OutboundText, SendResult, WhatsAppSendError

EvolutionVersion = Literal["v1", "v2"]
ZAPI_DEFAULT_BASE_URL = "https://api.z-api.io"
_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
_TRANSIENT_STATUSES = frozenset({408, 425, 429})
_PHONE_NOISE = re.compile(r"[\s().\-+]")


@cache
def http_client(base_url: str) -> httpx.Client:
    """One pooled client per gateway base URL, reused across invocations of a container."""
    return httpx.Client(base_url=base_url.rstrip("/"), timeout=_TIMEOUT)


def recipient(to: str) -> str:
    """The gateway's recipient: digits only for a phone (``+55 11 9...`` → ``55119...``);
    a chat id (``...@g.us``, ``...-group``, ``...@lid``) is passed through unchanged."""
    if "@" in to or to.endswith("-group"):
        return to
    return _PHONE_NOISE.sub("", to)


def _reason(response: httpx.Response) -> str:
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:200] or response.reason_phrase
    if isinstance(body, dict):
        if isinstance(body.get("response"), dict):  # Evolution: {status, error, response}
            return f"{body.get('error')}: {body['response'].get('message')}"[:300]
        if body.get("error"):  # Z-API: {"error": "..."}
            return str(body["error"])[:300]
    return str(body)[:300]


def classify(response: httpx.Response, gateway: str) -> WhatsAppSendError:
    """The error a non-2xx answer stands for (see the module docstring)."""
    status = response.status_code
    transient = status >= 500 or status in _TRANSIENT_STATUSES
    return WhatsAppSendError(
        f"{gateway} answered {status}: {_reason(response)}", transient=transient
    )


def _post(
    client: httpx.Client, gateway: str, path: str, headers: dict[str, str], body: dict[str, Any]
) -> dict[str, Any]:
    try:
        response = client.post(path, json=body, headers=headers)
    except httpx.TimeoutException as exc:
        raise WhatsAppSendError(f"{gateway} timed out: {exc!r}", transient=True) from exc
    except httpx.TransportError as exc:
        raise WhatsAppSendError(f"{gateway} unreachable: {exc!r}", transient=True) from exc
    if not response.is_success:
        raise classify(response, gateway)
    try:
        answer = response.json()
    except ValueError:
        answer = {}
    return answer if isinstance(answer, dict) else {}


class ZapiClient:
    """Z-API's send-text for one instance (a :class:`~atende_shared.whatsapp.WhatsAppSender`
    without retries; see :mod:`atende_shared.whatsapp.resilience`)."""

    gateway = "zapi"

    def __init__(
        self,
        *,
        instance_id: str,
        instance_token: str,
        client_token: str,
        base_url: str = ZAPI_DEFAULT_BASE_URL,
        client: httpx.Client | None = None,
    ) -> None:
        self._path = f"/instances/{instance_id}/token/{instance_token}/send-text"
        self._headers = {"Client-Token": client_token}
        self._client = client or http_client(base_url)
        self.breaker_key = f"zapi:{base_url}:{instance_id}"

    def send_text(self, message: OutboundText) -> SendResult:
        answer = _post(
            self._client,
            self.gateway,
            self._path,
            self._headers,
            {"phone": recipient(message.to), "message": message.text},
        )
        message_id = answer.get("messageId") or answer.get("id") or answer.get("zaapId")
        return SendResult(gateway="zapi", message_id=str(message_id) if message_id else None)


class EvolutionClient:
    """Evolution API's sendText for one instance, in the server's body version."""

    gateway = "evolution"

    def __init__(
        self,
        *,
        base_url: str,
        instance: str,
        apikey: str,
        version: EvolutionVersion = "v2",
        client: httpx.Client | None = None,
    ) -> None:
        self._path = f"/message/sendText/{instance}"
        self._headers = {"apikey": apikey}
        self._version = version
        self._client = client or http_client(base_url)
        self.breaker_key = f"evolution:{base_url}:{instance}"

    def body(self, message: OutboundText) -> dict[str, Any]:
        number = recipient(message.to)
        if self._version == "v1":
            return {"number": number, "textMessage": {"text": message.text}}
        return {"number": number, "text": message.text}

    def send_text(self, message: OutboundText) -> SendResult:
        answer = _post(self._client, self.gateway, self._path, self._headers, self.body(message))
        key = answer.get("key") if isinstance(answer.get("key"), dict) else {}
        message_id = (key or {}).get("id")
        return SendResult(gateway="evolution", message_id=str(message_id) if message_id else None)
