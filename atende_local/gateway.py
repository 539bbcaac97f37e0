"""The local gateway: declared HTTP routes → API Gateway proxy events → real handlers.

A ``ThreadingHTTPServer`` (stdlib) rather than an ASGI server because it keeps header
names exactly as the client sent them, as API Gateway does, and handlers are synchronous
anyway: each request runs its handler on its own thread.

Besides the declared routes it serves ``/health``, ``/openapi.json``, ``/docs`` and the
local-only admin endpoints under ``/_local/`` (they do not exist in AWS).
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import httpx
from aws_lambda_powertools import Logger

from atende_local import apigw, openapi
from atende_local.apigw import HttpRequest, HttpResponse, error_response, json_response
from atende_local.console_site import ConsoleSite
from atende_local.fake_whatsapp import FakeWhatsApp
from atende_local.runtime import (
    FunctionRegistry,
    HandlerUnavailable,
    InvocationTimeout,
    context_for,
    format_exception,
)
from atende_local.tenant_auth import (
    PUBLIC_COGNITO_ACTIONS,
    CognitoVerifier,
    TokenRejected,
    cognito_target,
)
from functions.wiring_model import TENANT_APP_PREFIX

log = Logger(service="atende-local", use_rfc3339=True)

#: Requests larger than API Gateway's 10 MB payload limit are refused the same way.
MAX_BODY_BYTES = 10 * 1024 * 1024
_TRIGGER = re.compile(r"^/_local/trigger/(?P<function>[a-z][a-z0-9-]+)$")
_REPLAY = re.compile(r"^/_local/dlq/(?P<queue>[A-Za-z0-9_.-]+)/replay$")
_PEEK = re.compile(r"^/_local/dlq/(?P<queue>[A-Za-z0-9_.-]+)/messages$")

LocalHandler = Callable[[HttpRequest, str], HttpResponse]


class Gateway:
    """Turns requests into handler invocations; knows nothing about sockets."""

    def __init__(
        self,
        registry: FunctionRegistry,
        *,
        admin_token: str,
        prefix: str = "atende-local",
        health: Callable[[], tuple[bool, dict[str, Any]]] | None = None,
        trigger: Callable[[str, str | None], dict[str, Any]] | None = None,
        queues: Callable[[], list[dict[str, Any]]] | None = None,
        replay: Callable[[str], dict[str, Any]] | None = None,
        peek: Callable[[str], list[dict[str, Any]]] | None = None,
        server_url: Callable[[], str] = lambda: "http://127.0.0.1:8000",
        whatsapp: FakeWhatsApp | None = None,
        tenant_auth: CognitoVerifier | None = None,
        cognito_endpoint: str | None = None,
        console: ConsoleSite | None = None,
    ) -> None:
        self.registry = registry
        self.routes = apigw.RouteTable(registry.specs.values())
        self._token = admin_token.encode("utf-8")
        self._prefix = prefix
        self._health = health
        self._trigger = trigger
        self._queues = queues
        self._replay = replay
        self._peek = peek
        self._server_url = server_url
        self._whatsapp = whatsapp
        self._tenant_auth = tenant_auth
        self._cognito_endpoint = cognito_endpoint
        self._console = console

    # -- auth ------------------------------------------------------------------------

    def authorized(self, request: HttpRequest) -> bool:
        """Bearer token check (constant time). In AWS these routes are IAM-authorized."""
        value = next((v for k, v in request.headers if k.lower() == "authorization"), "")
        scheme, _, token = value.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return False
        return hmac.compare_digest(token.strip().encode("utf-8"), self._token)

    # -- dispatch --------------------------------------------------------------------

    def handle(self, request: HttpRequest) -> HttpResponse:
        request_id = str(uuid.uuid4())
        started = time.perf_counter()
        function: str | None = None
        try:
            response, function = self._dispatch(request, request_id)
        except Exception as exc:  # a gateway bug must answer, not drop the connection
            log.exception("gateway error", extra={"correlation_id": request_id})
            response = error_response(
                500, "gateway_error", f"{type(exc).__name__}: {exc}", request_id=request_id
            )
        response.headers.append(("X-Amzn-RequestId", request_id))
        log.info(
            "request",
            extra={
                "correlation_id": request_id,
                "method": request.method,
                "path": request.raw_path,
                "status": response.status,
                "function": function,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            },
        )
        return response

    def _dispatch(self, request: HttpRequest, request_id: str) -> tuple[HttpResponse, str | None]:
        path = request.raw_path
        local = self._local(request, request_id)
        if local is not None:
            return local, None
        if path.startswith(f"{TENANT_APP_PREFIX}/"):
            return self._tenant_dispatch(request, request_id)
        found = self.routes.match(request.method, path)
        if found is None:
            return error_response(
                404, "not_found", f"no route for {request.method} {path}", request_id=request_id
            ), None
        if isinstance(found, list):
            allowed = ", ".join(sorted(set(found)))
            response = error_response(
                405,
                "method_not_allowed",
                f"{request.method} is not allowed on {path} (allowed: {allowed})",
                request_id=request_id,
            )
            response.headers.append(("Allow", allowed))
            return response, None
        spec = found.entry.function
        if found.entry.route.auth == "admin" and not self.authorized(request):
            return self._unauthorized(request_id), spec.name
        return self.invoke(request, found, request_id), spec.name

    def _tenant_dispatch(
        self, request: HttpRequest, request_id: str
    ) -> tuple[HttpResponse, str | None]:
        """``/app/...``: only routes flagged ``tenant_roles`` exist here (the CDK creates
        no others under ``/app``), each behind the Cognito authorizer."""
        path = request.raw_path.removeprefix(TENANT_APP_PREFIX)
        found = self.routes.match(request.method, path)
        if isinstance(found, list):
            flagged = self.routes.match_flagged(path)
            if flagged:
                response = error_response(
                    405,
                    "method_not_allowed",
                    f"{request.method} is not allowed on {request.raw_path}",
                    request_id=request_id,
                )
                response.headers.append(("Allow", ", ".join(sorted(set(flagged)))))
                return response, None
            found = None
        if found is None or not found.entry.route.tenant_roles:
            return error_response(
                404,
                "not_found",
                f"no route for {request.method} {request.raw_path}",
                request_id=request_id,
            ), None
        spec = found.entry.function
        if self._tenant_auth is None:
            return error_response(
                503, "tenant_auth_unavailable", "no user pool", request_id=request_id
            ), spec.name
        authorization = next((v for k, v in request.headers if k.lower() == "authorization"), None)
        try:
            claims = self._tenant_auth.verify(authorization)
        except TokenRejected as exc:
            log.info("token rejected", extra={"correlation_id": request_id, "reason": str(exc)})
            return error_response(401, "unauthorized", "Unauthorized", request_id=request_id), (
                spec.name
            )
        return self.invoke(request, found, request_id, claims=claims), spec.name

    def _unauthorized(self, request_id: str) -> HttpResponse:
        response = error_response(
            401,
            "unauthorized",
            "admin routes need 'Authorization: Bearer <ATENDE_ADMIN_TOKEN>'",
            request_id=request_id,
        )
        response.headers.append(("WWW-Authenticate", 'Bearer realm="atende-local"'))
        return response

    def invoke(
        self,
        request: HttpRequest,
        match: apigw.RouteMatch,
        request_id: str,
        *,
        claims: dict[str, str] | None = None,
    ) -> HttpResponse:
        """Build the event, call the handler, map its answer (502 like API Gateway when the
        handler is missing, raises or answers something malformed). With ``claims`` the
        request is a restaurant user's under ``/app`` (no IAM identity)."""
        spec = match.entry.function
        if claims is not None:
            event = apigw.build_proxy_event(
                request,
                match,
                request_id=request_id,
                resource_prefix=TENANT_APP_PREFIX,
                claims=claims,
            )
        else:
            caller = apigw.LOCAL_ADMIN_IDENTITY if match.entry.route.auth == "admin" else None
            event = apigw.build_proxy_event(request, match, request_id=request_id, caller=caller)
        try:
            handler = self.registry.load(spec.name)
        except HandlerUnavailable as exc:
            return error_response(
                502,
                "function_unavailable",
                f"function {spec.name} is unavailable: {exc.reason}",
                request_id=request_id,
                function=spec.name,
            )
        context = context_for(spec, self._prefix)
        try:
            answer = handler(event, context)
        except InvocationTimeout as exc:
            return error_response(
                504, "function_timeout", f"function {spec.name}: {exc}", request_id=request_id
            )
        except Exception as exc:
            log.error(
                "handler raised",
                extra={
                    "correlation_id": request_id,
                    "function": spec.name,
                    "error": format_exception(exc),
                },
            )
            return error_response(
                502,
                "function_error",
                f"function {spec.name} raised {type(exc).__name__} (see the platform log)",
                request_id=request_id,
                function=spec.name,
            )
        try:
            return apigw.map_proxy_response(answer)
        except apigw.BadHandlerResponse as exc:
            return error_response(
                502,
                "bad_function_response",
                f"function {spec.name}: {exc}",
                request_id=request_id,
                function=spec.name,
            )

    # -- local endpoints ---------------------------------------------------------------

    def _local(self, request: HttpRequest, request_id: str) -> HttpResponse | None:
        path, method = request.raw_path, request.method
        if path == "/health" and method == "GET":
            if self._health is None:
                return json_response(200, {"status": "ok"})
            healthy, body = self._health()
            return json_response(200 if healthy else 503, body)
        if path == "/openapi.json" and method == "GET":
            document = openapi.merged_openapi(self.registry, server_url=self._server_url())
            return json_response(200, document)
        if path in ("/docs", "/docs/") and method == "GET":
            return HttpResponse(
                200,
                [("Content-Type", "text/html; charset=utf-8")],
                openapi.swagger_html().encode("utf-8"),
            )
        if path.startswith("/docs/") and method == "GET":
            name = path.removeprefix("/docs/")
            if name in openapi.SWAGGER_ASSETS:
                return HttpResponse(
                    200,
                    [
                        ("Content-Type", openapi.SWAGGER_ASSETS[name]),
                        ("Cache-Control", "max-age=3600"),
                    ],
                    openapi.swagger_asset(name),
                )
            return None
        if self._console is not None:
            site = self._console.serve(request)
            if site is not None:
                return site
        if path == "/_local/cognito":
            return self._cognito(request, request_id)
        if not path.startswith("/_local/"):
            return None
        if not self.authorized(request):
            return self._unauthorized(request_id)
        return self._local_admin(request, request_id)

    def _cognito(self, request: HttpRequest, request_id: str) -> HttpResponse:
        """The Cognito JSON API for the browser's sign-in, forwarded to moto: the public
        actions only (no ``Admin*``), as ``cognito-idp.<region>.amazonaws.com`` answers."""
        action = cognito_target(list(request.headers))
        if request.method != "POST" or action not in PUBLIC_COGNITO_ACTIONS:
            return error_response(
                400, "malformed_request", "not a public Cognito action", request_id=request_id
            )
        if self._cognito_endpoint is None:
            return error_response(503, "cognito_unavailable", "no user pool", request_id=request_id)
        endpoint, region = self._cognito_endpoint.rsplit("#", 1)
        answer = httpx.post(
            f"{endpoint}/",
            content=request.body,
            headers={
                "Host": f"cognito-idp.{region}.amazonaws.com",
                "X-Amz-Target": f"AWSCognitoIdentityProviderService.{action}",
                "Content-Type": "application/x-amz-json-1.1",
            },
            timeout=10.0,
        )
        return HttpResponse(
            answer.status_code,
            [("Content-Type", "application/x-amz-json-1.1"), ("Cache-Control", "no-store")],
            answer.content,
        )

    def _local_admin(self, request: HttpRequest, request_id: str) -> HttpResponse:
        path, method = request.raw_path, request.method
        trigger = _TRIGGER.match(path)
        if trigger and method == "POST" and self._trigger is not None:
            schedule: str | None = None
            if request.body.strip():
                try:
                    payload = json.loads(request.body)
                except ValueError:
                    return error_response(
                        400, "malformed_request", "body must be JSON", request_id=request_id
                    )
                schedule = payload.get("schedule") if isinstance(payload, dict) else None
            try:
                result = self._trigger(trigger.group("function"), schedule)
            except LookupError as exc:
                return error_response(404, "not_found", str(exc.args[0]), request_id=request_id)
            return json_response(200 if result.get("ok") else 502, result)
        if path == "/_local/whatsapp/messages" and self._whatsapp is not None:
            # What the fake Z-API/Evolution gateways accepted (DELETE forgets it).
            if method == "GET":
                return json_response(200, {"messages": self._whatsapp.sent()})
            if method == "DELETE":
                self._whatsapp.clear()
                return json_response(200, {"cleared": True})
        if path == "/_local/queues" and method == "GET" and self._queues is not None:
            return json_response(200, {"queues": self._queues()})
        replay = _REPLAY.match(path)
        if replay and method == "POST" and self._replay is not None:
            try:
                return json_response(200, self._replay(replay.group("queue")))
            except LookupError as exc:
                return error_response(404, "not_found", str(exc.args[0]), request_id=request_id)
        peek = _PEEK.match(path)
        if peek and method == "GET" and self._peek is not None:
            try:
                return json_response(200, {"messages": self._peek(peek.group("queue"))})
            except LookupError as exc:
                return error_response(404, "not_found", str(exc.args[0]), request_id=request_id)
        return error_response(
            404, "not_found", f"no local endpoint {method} {path}", request_id=request_id
        )


# -- HTTP plumbing -------------------------------------------------------------------------


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in one buffered write, without Nagle: otherwise keep-alive
    # clients wait ~40 ms per request on the delayed ACK between the two writes.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024
    server: LocalHttpServer

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            total = 0
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(chunks)
                total += size
                if total > MAX_BODY_BYTES:
                    return None
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            return None
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            self._send(error_response(413, "payload_too_large", "request body exceeds 10 MB"))
            self.close_connection = True
            return
        target = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            raw_path=target.path or "/",
            query_string=target.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        gateway = self.server.gateway
        if gateway is None:
            self._send(error_response(503, "starting", "the platform is starting"))
            return
        self._send(gateway.handle(request))

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for key, value in response.headers:
            if key.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve  # noqa: N815

    def log_message(self, format: str, *args: Any) -> None:
        """Access lines are logged as JSON by :meth:`Gateway.handle`."""


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], gateway: Gateway | None = None) -> None:
        # The gateway may be attached after binding: the platform binds first so a taken
        # port fails at once, and serves only when everything behind it is ready.
        self.gateway: Gateway | None = gateway
        self._serving: threading.Thread | None = None
        super().__init__(address, _RequestHandler)

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(
            target=self.serve_forever, kwargs={"poll_interval": 0.2}, name="gateway", daemon=True
        )
        thread.start()
        self._serving = thread
        return thread

    def stop(self) -> None:
        """Stop serving (if it started: ``shutdown()`` would wait forever otherwise), close."""
        if self._serving is not None:
            self.shutdown()
        self.server_close()
