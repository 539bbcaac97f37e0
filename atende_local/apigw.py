"""API Gateway (REST API, proxy integration, payload v1) as the real handlers see it.

Pure functions: match a request to a declared route, build the proxy event, and turn the
handler's answer back into an HTTP response, with API Gateway's rules (most specific
route wins; bodies that are not UTF-8 text travel base64-encoded; ``multiValueHeaders``
and ``headers`` both carry the request's headers; path and query values are URL-decoded).
"""

from __future__ import annotations

import base64
import json
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

from atende_local.runtime import LOCAL_ACCOUNT_ID
from functions.wiring_model import FunctionSpec, HttpRoute

STAGE = "local"
API_ID = "atendelocal"
#: Who an admin request is, once the bearer token checked out: the identity fields an
#: IAM-authorized (SigV4) request carries in AWS, for a stand-in local admin user.
LOCAL_ADMIN_IDENTITY: dict[str, str] = {
    "accountId": LOCAL_ACCOUNT_ID,
    "caller": "AIDALOCALADMIN000000",
    "user": "AIDALOCALADMIN000000",
    "userArn": f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:user/atende-local-admin",
    "accessKey": "ASIALOCALADMIN000000",
}

#: Media types API Gateway is told to treat as binary (the CDK API must declare the same).
#: Any body that is not valid UTF-8 is passed base64-encoded too.
BINARY_MEDIA_TYPES: tuple[str, ...] = (
    "application/octet-stream",
    "application/gzip",
    "application/zip",
    "application/x-protobuf",
    "image/*",
    "audio/*",
    "video/*",
)


@dataclass(frozen=True)
class RouteEntry:
    """One declared route and the function serving it."""

    route: HttpRoute
    function: FunctionSpec
    pattern: re.Pattern[str]
    #: Sort key: literal segments beat parameters, position by position.
    specificity: tuple[int, ...]


@dataclass(frozen=True)
class RouteMatch:
    entry: RouteEntry
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class HttpRequest:
    """A request as received by the local gateway (headers in order, case as sent)."""

    method: str
    raw_path: str
    query_string: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def _compile(template: str) -> tuple[re.Pattern[str], tuple[int, ...]]:
    parts: list[str] = []
    specificity: list[int] = []
    for segment in template.strip("/").split("/"):
        greedy = re.fullmatch(r"{([A-Za-z0-9_]+)\+}", segment)
        param = re.fullmatch(r"{([A-Za-z0-9_]+)}", segment)
        if greedy:
            parts.append(f"(?P<{greedy.group(1)}>.+)")
            specificity.append(0)
        elif param:
            parts.append(f"(?P<{param.group(1)}>[^/]+)")
            specificity.append(1)
        else:
            parts.append(re.escape(segment))
            specificity.append(2)
    return re.compile("^/" + "/".join(parts) + "$"), tuple(specificity)


class RouteTable:
    """Every HTTP route declared in the wiring."""

    def __init__(self, functions: Iterable[FunctionSpec]) -> None:
        self.entries: list[RouteEntry] = []
        for spec in functions:
            for route in spec.routes:
                pattern, specificity = _compile(route.path)
                self.entries.append(RouteEntry(route, spec, pattern, specificity))
        # API Gateway prefers the most specific resource: literal segments first.
        self.entries.sort(key=lambda e: e.specificity, reverse=True)

    def match_flagged(self, path: str) -> list[str]:
        """Methods of the tenant-user (``tenant_roles``) routes on ``path``."""
        return [
            e.route.method for e in self.entries if e.route.tenant_roles and e.pattern.match(path)
        ]

    def match(self, method: str, path: str) -> RouteMatch | list[str] | None:
        """The matching route; else the allowed methods on that path (405); else None (404)."""
        allowed: list[str] = []
        best_specificity: tuple[int, ...] | None = None
        for entry in self.entries:
            found = entry.pattern.match(path)
            if not found:
                continue
            if best_specificity is not None and entry.specificity != best_specificity:
                break  # a less specific resource: API Gateway would not fall back to it
            best_specificity = entry.specificity
            if entry.route.method == method:
                params = {k: unquote(v) for k, v in found.groupdict().items()}
                return RouteMatch(entry, params)
            allowed.append(entry.route.method)
        return allowed or None


def is_binary(content_type: str | None, body: bytes) -> bool:
    """Whether API Gateway would base64-encode this body for the handler."""
    media = (content_type or "").split(";", 1)[0].strip().lower()
    for declared in BINARY_MEDIA_TYPES:
        if declared.endswith("/*") and media.startswith(declared[:-1]):
            return True
        if media == declared:
            return True
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _header(headers: Sequence[tuple[str, str]], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def build_proxy_event(
    request: HttpRequest,
    match: RouteMatch,
    *,
    request_id: str | None = None,
    caller: dict[str, str] | None = None,
    resource_prefix: str = "",
    claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The API Gateway REST proxy event for ``request`` on route ``match``; ``caller``
    fills the IAM identity fields (admin routes); ``claims`` are a Cognito authorizer's
    (tenant-user routes, whose resource is the route under ``resource_prefix``)."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for key, value in request.headers:
        headers[key] = value  # the last value wins, as in API Gateway
        multi_headers.setdefault(key, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = value
        multi_query.setdefault(key, []).append(value)
    binary = is_binary(_header(request.headers, "content-type"), request.body)
    if not request.body:
        body: str | None = None
    elif binary:
        body = base64.b64encode(request.body).decode("ascii")
    else:
        body = request.body.decode("utf-8")
    now = datetime.now(UTC)
    request_id = request_id or str(uuid.uuid4())
    path = unquote(request.raw_path)
    resource = f"{resource_prefix}{match.entry.route.path}"
    return {
        "resource": resource,
        "path": path,
        "httpMethod": request.method,
        "headers": headers or None,
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": match.path_parameters or None,
        "stageVariables": None,
        "requestContext": {
            "accountId": LOCAL_ACCOUNT_ID,
            "apiId": API_ID,
            "resourceId": f"{abs(hash(resource)) % 10**6:06d}",
            "resourcePath": resource,
            "httpMethod": request.method,
            "path": f"/{STAGE}{path}",
            "stage": STAGE,
            "requestId": request_id,
            "extendedRequestId": request_id,
            "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "requestTimeEpoch": int(now.timestamp() * 1000),
            "protocol": "HTTP/1.1",
            "domainName": _header(request.headers, "host") or "127.0.0.1",
            "domainPrefix": "127",
            "identity": {
                "sourceIp": request.source_ip,
                "userAgent": _header(request.headers, "user-agent"),
                "accountId": None,
                "caller": None,
                "user": None,
                "userArn": None,
                "accessKey": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "cognitoAuthenticationType": None,
                "cognitoAuthenticationProvider": None,
                **(caller or {}),
            },
            **({"authorizer": {"claims": dict(claims)}} if claims is not None else {}),
        },
        "body": body,
        "isBase64Encoded": bool(body) and binary,
    }


@cache
def declared_routes() -> RouteTable:
    """Every route declared in ``functions/wiring.py`` (built once)."""
    from functions.wiring import FUNCTIONS

    return RouteTable(FUNCTIONS)


def api_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    caller: dict[str, str] | None = None,
    request_id: str | None = None,
    routes: RouteTable | None = None,
) -> dict[str, Any]:
    """The API Gateway event for a request to a declared route: the ONE event builder for
    tests and the local gateway. ``body``: bytes/str sent as is, anything else as JSON
    (with ``Content-Type: application/json`` unless ``headers`` say otherwise)."""
    table = routes or declared_routes()
    split = path.split("?", 1)
    raw_path = split[0]
    found = table.match(method, raw_path)
    if not isinstance(found, RouteMatch):
        raise LookupError(f"no declared route {method} {raw_path}")
    sent: dict[str, str] = dict(headers or {})
    if body is None:
        data = b""
    elif isinstance(body, bytes):
        data = body
    elif isinstance(body, str):
        data = body.encode("utf-8", "surrogatepass")
    else:
        data = json.dumps(body).encode()
    if data and not any(k.lower() == "content-type" for k in sent):
        sent["Content-Type"] = "application/json"
    query_string = urlencode(query) if query else (split[1] if len(split) > 1 else "")
    request = HttpRequest(
        method=method,
        raw_path=raw_path,
        query_string=query_string,
        headers=list(sent.items()),
        body=data,
    )
    return build_proxy_event(request, found, request_id=request_id, caller=caller)


class BadHandlerResponse(ValueError):
    """The handler answered something API Gateway would reject (it answers 502)."""


def map_proxy_response(answer: Any) -> HttpResponse:
    """The HTTP response API Gateway makes of a proxy integration's answer."""
    if not isinstance(answer, dict):
        raise BadHandlerResponse(f"handler returned {type(answer).__name__}, not a dict")
    try:
        status = int(answer.get("statusCode", 0))
    except (TypeError, ValueError) as exc:
        raise BadHandlerResponse("statusCode is not an integer") from exc
    if not 100 <= status <= 599:
        raise BadHandlerResponse(f"statusCode {answer.get('statusCode')!r} is missing or invalid")
    merged: dict[str, list[str]] = {}
    for key, value in (answer.get("headers") or {}).items():
        merged[key] = [str(value)]
    for key, values in (answer.get("multiValueHeaders") or {}).items():
        # Both maps are honoured; for a name in both, the multi-value list wins.
        merged[key] = [str(v) for v in values]
    raw_body = answer.get("body")
    if raw_body is None:
        body = b""
    elif not isinstance(raw_body, str):
        raise BadHandlerResponse("body must be a string")
    elif answer.get("isBase64Encoded"):
        try:
            body = base64.b64decode(raw_body, validate=True)
        except ValueError as exc:
            raise BadHandlerResponse("isBase64Encoded body is not valid base64") from exc
    else:
        body = raw_body.encode("utf-8")
    headers = [(k, v) for k, values in merged.items() for v in values]
    if not any(k.lower() == "content-type" for k, _ in headers):
        headers.append(("Content-Type", "application/json"))
    return HttpResponse(status=status, headers=headers, body=body)


def json_response(
    status: int, payload: Any, *, headers: Sequence[tuple[str, str]] = ()
) -> HttpResponse:
    """A JSON answer from the gateway itself (errors, /health...)."""
    return HttpResponse(
        status=status,
        headers=[("Content-Type", "application/json"), *headers],
        body=json.dumps(payload, ensure_ascii=False, default=str).encode("utf-8"),
    )


def error_response(
    status: int, code: str, message: str, *, request_id: str | None = None, **extra: Any
) -> HttpResponse:
    """The platform's error body shape (``atende_shared.errors.error_body``)."""
    error: dict[str, Any] = {"code": code, "message": message, **extra}
    payload: dict[str, Any] = {"error": error}
    if request_id:
        payload["correlation_id"] = request_id
    return json_response(status, payload)
