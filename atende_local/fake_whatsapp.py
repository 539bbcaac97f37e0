"""Contract-faithful fakes of the Z-API and Evolution API **send** APIs, on loopback.

One server answers both gateways' send-text routes with their documented request shapes,
auth headers and error answers (sources quoted in :mod:`atende_shared.whatsapp.clients`),
and records every message it accepted, so a developer (``GET /_local/whatsapp/messages`` on
the local gateway, or ``GET /_fake/messages`` here) and the tests see what was sent.

Z-API — ``POST /instances/{instance}/token/{token}/send-text``, header ``Client-Token``,
body ``{phone, message}``; 200 ``{zaapId, messageId, id}``. Errors are ``{"error": "..."}``:
no ``Client-Token`` → 400 ``null not allowed`` (the docs' text for a request without the
account token; the 400 status is what integrators report), a wrong one → 401 ``your
client-token is not configured``, an unknown instance or instance token → 404, a body
without ``phone``/``message`` → 400, a body that is not JSON → 415 (documented).

Evolution — ``POST /message/sendText/{instance}``, header ``apikey`` (the instance's key or
the server's global key), v2 body ``{number, text}``, v1 ``{number, textMessage: {text}}``
(per instance); 201 ``{key: {remoteJid, fromMe: true, id}, message, messageTimestamp,
status: "PENDING"}``. Errors are ``{status, error, response: {message}}``: no or wrong key
→ 401 (the auth guard runs first, so an unknown instance with an instance key is 401 too),
an unknown instance with the global key → 404 ``The "<name>" instance does not exist``,
the other version's body → 400 ``instance requires property "text"``/``"textMessage"``,
a number that is not on WhatsApp (fewer than 10 digits here) → 400 ``[{exists: false}]``.

Faults for tests: :meth:`FakeWhatsApp.fail_next` answers the next requests with given
statuses (e.g. 503 for an outage, then recovery).
"""

from __future__ import annotations

import contextlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

_ZAPI = re.compile(r"^/instances/(?P<instance>[^/]+)/token/(?P<token>[^/]+)/send-text$")
_EVOLUTION = re.compile(r"^/message/sendText/(?P<instance>[^/]+)$")
_DIGITS = re.compile(r"\D")


@dataclass(frozen=True)
class ZapiInstance:
    instance_id: str
    instance_token: str
    client_token: str


@dataclass(frozen=True)
class EvolutionInstance:
    name: str
    apikey: str
    version: Literal["v1", "v2"] = "v2"


@dataclass
class Answer:
    status: int
    body: dict[str, Any] | list[Any]


@dataclass
class FakeWhatsApp:
    """The fake's state: configured instances, the record, injected faults."""

    zapi: dict[str, ZapiInstance] = field(default_factory=dict)
    evolution: dict[str, EvolutionInstance] = field(default_factory=dict)
    evolution_global_apikey: str | None = None
    messages: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    #: Called with each accepted message (e.g. to deliver the gateway's ``fromMe`` echo).
    on_sent: Callable[[dict[str, Any]], None] | None = None
    _faults: list[int] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_zapi(self, instance: ZapiInstance) -> None:
        self.zapi[instance.instance_id] = instance

    def add_evolution(self, instance: EvolutionInstance) -> None:
        self.evolution[instance.name] = instance

    def fail_next(self, *statuses: int) -> None:
        """Answer the next ``len(statuses)`` send requests with these statuses."""
        with self._lock:
            self._faults.extend(statuses)

    def sent(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self.messages]

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self._faults.clear()

    # -- the contract ------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        """Answer one request (headers with lower-case names)."""
        if path == "/_fake/messages":
            if method == "GET":
                return Answer(200, {"messages": self.sent()})
            if method == "DELETE":
                self.clear()
                return Answer(200, {"cleared": True})
        zapi = _ZAPI.match(path)
        evolution = _EVOLUTION.match(path)
        if not zapi and not evolution:
            if path.startswith("/instances/"):
                return Answer(404, {"error": "route not found"})
            return _evolution_error(404, "Not Found", [f"Cannot {method} {path}"])
        with self._lock:
            self.requests += 1
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            if zapi:
                return Answer(fault, {"error": f"injected fault {fault}"})
            return _evolution_error(fault, "Injected Fault", f"injected fault {fault}")
        if zapi:
            if method != "POST":
                return Answer(405, {"error": "method not allowed"})
            return self._zapi(zapi.group("instance"), zapi.group("token"), headers, body)
        if method != "POST":
            return _evolution_error(404, "Not Found", [f"Cannot {method} {path}"])
        return self._evolution(evolution.group("instance"), headers, body)  # type: ignore[union-attr]

    def _zapi(self, instance_id: str, token: str, headers: dict[str, str], body: bytes) -> Answer:
        client_token = headers.get("client-token")
        if not client_token:
            return Answer(400, {"error": "null not allowed"})
        instance = self.zapi.get(instance_id)
        if instance is None or not secrets.compare_digest(instance.instance_token, token):
            return Answer(404, {"error": "Instance not found"})
        if not secrets.compare_digest(instance.client_token, client_token):
            return Answer(401, {"error": "your client-token is not configured"})
        if "json" not in headers.get("content-type", ""):
            return Answer(415, {"error": "unsupported media type"})
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return Answer(400, {"error": "invalid json"})
        if not isinstance(data, dict):
            return Answer(400, {"error": "body must be an object"})
        phone, text = data.get("phone"), data.get("message")
        if not isinstance(phone, str) or not phone.strip():
            return Answer(400, {"error": "phone is required"})
        if not isinstance(text, str) or not text:
            return Answer(400, {"error": "message is required"})
        message_id = "3EB0" + secrets.token_hex(8).upper()
        zaap_id = secrets.token_hex(16).upper()
        self._record(
            gateway="zapi", instance=instance_id, to=phone, text=text, message_id=message_id
        )
        return Answer(200, {"zaapId": zaap_id, "messageId": message_id, "id": message_id})

    def _evolution(self, name: str, headers: dict[str, str], body: bytes) -> Answer:
        key = headers.get("apikey")
        instance = self.evolution.get(name)
        global_key = self.evolution_global_apikey
        is_global = bool(key and global_key and secrets.compare_digest(key, global_key))
        is_instance = bool(key and instance and secrets.compare_digest(key, instance.apikey))
        if not (is_global or is_instance):
            return _evolution_error(401, "Unauthorized", "Unauthorized")
        if instance is None:
            return _evolution_error(404, "Not Found", [f'The "{name}" instance does not exist'])
        try:
            data = json.loads(body or b"null")
        except ValueError:
            return _evolution_error(400, "Bad Request", ["Unexpected token in JSON"])
        if not isinstance(data, dict):
            return _evolution_error(400, "Bad Request", [["instance is not of a type(s) object"]])
        number = data.get("number")
        if not isinstance(number, str) or not number:
            return _evolution_error(400, "Bad Request", [['instance requires property "number"']])
        if instance.version == "v2":
            text = data.get("text")
            if not isinstance(text, str) or not text:
                return _evolution_error(400, "Bad Request", [['instance requires property "text"']])
        else:
            wrapped = data.get("textMessage")
            text = wrapped.get("text") if isinstance(wrapped, dict) else None
            if not isinstance(text, str) or not text:
                return _evolution_error(
                    400, "Bad Request", [['instance requires property "textMessage"']]
                )
        jid = number if "@" in number else f"{_DIGITS.sub('', number)}@s.whatsapp.net"
        if "@" not in number and len(_DIGITS.sub("", number)) < 10:
            return _evolution_error(
                400, "Bad Request", [{"jid": jid, "exists": False, "number": number}]
            )
        message_id = "BAE5" + secrets.token_hex(6).upper()
        self._record(
            gateway="evolution",
            instance=name,
            to=number,
            text=text,
            message_id=message_id,
            api_version=instance.version,
        )
        return Answer(
            201,
            {
                "key": {"remoteJid": jid, "fromMe": True, "id": message_id},
                "message": {"conversation": text},
                "messageTimestamp": str(int(time.time())),
                "status": "PENDING",
            },
        )

    def _record(self, **message: Any) -> None:
        entry = {**message, "at": time.time()}
        with self._lock:
            self.messages.append(entry)
        if self.on_sent is not None:
            # An echo that fails must not fail the send.
            with contextlib.suppress(Exception):
                self.on_sent(dict(entry))


def _evolution_error(status: int, error: str, message: Any) -> Answer:
    return Answer(status, {"status": status, "error": error, "response": {"message": message}})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        answer = self.server.fake.handle(self.command, self.path.split("?", 1)[0], headers, body)
        payload = json.dumps(answer.body).encode("utf-8")
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the record is the log."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeWhatsApp) -> None:
        self.fake = fake
        super().__init__(address, _Handler)


@dataclass
class FakeWhatsAppServer:
    """A running fake: its URL, state, and how to stop it."""

    fake: FakeWhatsApp
    server: _Server
    thread: threading.Thread

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def start(
    host: str = "127.0.0.1", port: int = 0, fake: FakeWhatsApp | None = None
) -> FakeWhatsAppServer:
    """Serve ``fake`` (a new one by default) on ``host:port`` (0: a free port)."""
    state = fake or FakeWhatsApp()
    server = _Server((host, port), state)
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": 0.2},
        name="fake-whatsapp",
        daemon=True,
    )
    thread.start()
    return FakeWhatsAppServer(fake=state, server=server, thread=thread)
