"""The one place domain errors become HTTP answers, for every API resolver.

``build_resolver()`` returns a Powertools ``APIGatewayRestResolver`` with OpenAPI
validation on and exception handlers registered: ``AtendeError`` → its status and the
standard error body; request validation → 422 with the fields at fault; invalid JSON → 400;
an unknown route → 404 in the same body. Before Powertools parses anything, the
:class:`RequestPrecheck` middleware binds the correlation id (``X-Correlation-Id`` when
sent, else the request id), authenticates (APIs that have a token), checks the
``tenant_id`` path parameter and refuses oversized (413), non-JSON (415) and non-UTF-8
(400) bodies; bodies are then read by the bounded :func:`atende_shared.jsonbody.read_json`.
Every error answer carries the correlation id. ``documented_responses()`` documents those
answers in the generated OpenAPI (Powertools would otherwise describe its own shapes).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Mapping
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from pydantic import BaseModel, Field

from atende_shared.errors import (
    AtendeError,
    ConfigurationError,
    MalformedRequest,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
    error_body,
)
from atende_shared.jsonbody import decode_utf8, read_json
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.observability import CORRELATION_HEADER, bind_correlation_id, logger

_TENANT_RE = re.compile(TENANT_ID_PATTERN)


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable: not_found, conflict, validation_failed, ...")
    message: str
    details: dict[str, Any] | None = None


class ErrorBody(BaseModel):
    """Every error answer of the platform (see ``atende_shared.errors.error_body``)."""

    error: ErrorDetail
    correlation_id: str | None = None


ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed request: the body is not valid, bounded JSON, or a cursor this API "
    "did not issue for this list",
    401: "Not authenticated",
    404: "Not found (another tenant's data answers the same)",
    409: "Conflicts with the current state",
    412: "Changed since the version named in If-Match; re-read and retry",
    413: "Body too large",
    415: "Body is not application/json",
    422: "Request failed validation; details name each field",
    503: "A dependency failed; retry",
}


def documented_responses(
    status: int,
    description: str,
    *errors: int,
    descriptions: Mapping[int, str] | None = None,
) -> dict[int, OpenAPIResponse]:
    """A route's documented answers: the success (its schema comes from the return
    annotation) and :class:`ErrorBody` for each error status, 400, 422 and 503 always included
    (listing 422 also replaces Powertools' own ``HTTPValidationError``, which is not what
    the resolver sends)."""
    texts = {**ERROR_DESCRIPTIONS, **(descriptions or {})}
    documented: dict[int, OpenAPIResponse] = {status: {"description": description}}
    for code in sorted({400, 422, 503, *errors}):
        documented[code] = {
            "description": texts[code],
            "content": {"application/json": {"model": ErrorBody}},
        }
    return documented


_CORRELATION_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/+=@-]{0,127}$")

#: Admin API bodies (a whole menu may be large); routes can ask for another cap.
DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024

TenantPath = Annotated[
    str, Path(pattern=TENANT_ID_PATTERN, max_length=63, description="tenant id (slug)")
]
"""The ``tenant_id`` path parameter of every tenant-scoped route."""


def correlation_id_of(event: Mapping[str, Any]) -> str | None:
    """The request's correlation id: a well-formed ``X-Correlation-Id`` header when the
    caller sent one, else API Gateway's request id."""
    headers = event.get("headers") or {}
    if isinstance(headers, Mapping):
        for name, value in headers.items():
            if str(name).lower() == CORRELATION_HEADER and isinstance(value, str):
                if _CORRELATION_RE.match(value):
                    return value
                break
    context = event.get("requestContext") or {}
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    return str(request_id) if request_id else None


def request_correlation_id(app: APIGatewayRestResolver) -> str | None:
    """:func:`correlation_id_of` the request the resolver is answering."""
    try:
        return correlation_id_of(app.current_event.raw_event)
    except (AttributeError, KeyError, TypeError):
        return None


def error_response(error: AtendeError, app: APIGatewayRestResolver | None = None) -> Response[Any]:
    """The HTTP answer for a domain error (logged with its real message)."""
    if error.public:
        logger.info("request refused", extra={"error_code": error.code, "reason": error.message})
    else:
        logger.warning("request failed", extra={"error_code": error.code, "reason": error.message})
    return Response(
        status_code=int(error.status),
        content_type=content_types.APPLICATION_JSON,
        body=error_body(error, correlation_id=request_correlation_id(app) if app else None),
    )


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body as bytes (API Gateway base64-encodes binary bodies)."""
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(str(body), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedRequest("request body is not valid base64") from exc
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise MalformedRequest("request body is not UTF-8") from exc


Authenticator = Callable[[APIGatewayRestResolver], None]


def path_parameter(app: APIGatewayRestResolver, name: str) -> str | None:
    """A path parameter of the matched route (Powertools' own match, so it works behind a
    ``{proxy+}`` resource too), else API Gateway's ``pathParameters``."""
    matched = app.context.get("_route_args") or {}
    if name in matched:
        return str(matched[name])
    value = (app.current_event.path_parameters or {}).get(name)
    return str(value) if value is not None else None


class RequestPrecheck(BaseMiddlewareHandler):
    """Powertools middleware run on every matched route BEFORE Powertools parses or
    validates anything: binds the correlation id to the logs; authenticates (when the API
    has an authenticator, so nobody without a token learns field-level details); refuses
    a malformed ``tenant_id`` path parameter (same 422 as :data:`TenantPath`), a body over
    the cap (413) or not JSON (415) or not UTF-8 (400); then hands over to ``inner`` (the
    resolver's OpenAPI request validation), which reads the body through the bounded
    :func:`atende_shared.jsonbody.read_json`."""

    def __init__(
        self,
        inner: BaseMiddlewareHandler | None,
        *,
        max_body_bytes: Callable[[], int],
        authenticate: Authenticator | None,
    ) -> None:
        self._inner = inner
        self._max_body_bytes = max_body_bytes
        self._authenticate = authenticate

    def handler(self, app: EventHandlerInstance, next_middleware: NextMiddleware) -> Response[Any]:
        resolver: APIGatewayRestResolver = app  # type: ignore[assignment]
        event = resolver.current_event.raw_event
        bind_correlation_id(correlation_id_of(event))
        try:
            self._check(resolver, event)
        except AtendeError as exc:
            return error_response(exc, resolver)
        if self._inner is None:
            return next_middleware(app)
        return self._inner.handler(app, next_middleware)

    def _check(self, app: APIGatewayRestResolver, event: Mapping[str, Any]) -> None:
        if self._authenticate is not None:
            self._authenticate(app)
        tenant_id = path_parameter(app, "tenant_id")
        if tenant_id is not None and not _TENANT_RE.fullmatch(tenant_id):
            raise ValidationFailed(
                "request failed validation",
                details={
                    "fields": [{"field": "path.tenant_id", "problem": "not a tenant id (slug)"}]
                },
            )
        if not event.get("body"):
            return
        body = raw_body(event)
        limit = self._max_body_bytes()
        if len(body) > limit:
            raise PayloadTooLarge(f"request body exceeds {limit} bytes")
        content_type = ""
        for name, value in (event.get("headers") or {}).items():
            if str(name).lower() == "content-type":
                content_type = str(value or "").lower()
        if content_type and "json" not in content_type:
            raise UnsupportedMediaType("request body must be application/json")
        decode_utf8(body)


def build_resolver(
    *,
    title: str,
    version: str = "1.0.0",
    max_body_bytes: int | Callable[[], int] = DEFAULT_MAX_BODY_BYTES,
    authenticate: Authenticator | None = None,
) -> APIGatewayRestResolver:
    """A REST resolver with validation, the platform's error mapping, the request
    precheck (:class:`RequestPrecheck`) and the bounded JSON reading.

    ``max_body_bytes`` may be a callable, read per request (settings load at cold start,
    never at import); ``authenticate`` runs before anything is parsed and raises
    ``Unauthorized`` (public APIs such as ingestion; admin APIs are IAM-authenticated by
    API Gateway and pass none)."""
    cap = max_body_bytes if callable(max_body_bytes) else (lambda: int(max_body_bytes))

    def deserialize(text: str) -> Any:
        return read_json(text, max_bytes=cap())

    app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=deserialize)
    app.configure_openapi(title=title, version=version)
    # Powertools runs its request validation (which parses the body) before any
    # middleware registered with ``app.use``; the precheck must come first, so it wraps
    # that validation step (a test proves an oversized, invalid body is a 413, not a 400).
    inner = getattr(app, "_request_validation_middleware", None)
    if inner is None:  # pragma: no cover - Powertools changed; fail loudly at cold start
        raise ConfigurationError("Powertools no longer exposes its request validation step")
    app._request_validation_middleware = RequestPrecheck(  # type: ignore[assignment]
        inner, max_body_bytes=cap, authenticate=authenticate
    )

    @app.exception_handler(AtendeError)
    def _domain_error(exc: AtendeError) -> Response[Any]:
        return error_response(exc, app)

    @app.not_found
    def _no_route(_: Exception) -> Response[Any]:
        # Powertools' default 404 body ({"statusCode", "message"}) is not the platform's.
        return error_response(NotFound("no such route (check the path and its parameters)"), app)

    @app.exception_handler(RequestValidationError)
    def _validation_error(exc: RequestValidationError) -> Response[Any]:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(MalformedRequest("request body is not valid JSON"), app)
        fields = [
            {
                "field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"),
                "problem": e.get("msg"),
            }
            for e in errors
        ]
        return error_response(
            ValidationFailed("request failed validation", details={"fields": fields}), app
        )

    return app
