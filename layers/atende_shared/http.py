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
import json
import os
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import BaseMiddlewareHandler, NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from atende_shared.errors import (
    AtendeError,
    ConfigurationError,
    Forbidden,
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
    403: "A restaurant user outside its own tenant or role",
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


#: Where tenant-user routes live (``functions.wiring_model.TENANT_APP_PREFIX``).
TENANT_APP_PREFIX = "/app"
#: The flagged routes of this function and their roles, set from the wiring by the CDK app
#: and the local platform (``functions.wiring_model.tenant_routes_env``): handlers do not
#: import the wiring at run time.
TENANT_ROUTES_ENV = "ATENDE_TENANT_ROUTES"
TenantRoles = Mapping[tuple[str, str], frozenset[str]]


@lru_cache(maxsize=4)
def _parse_tenant_routes(raw: str) -> TenantRoles:
    try:
        declared = json.loads(raw) if raw else {}
    except ValueError:
        logger.error("ATENDE_TENANT_ROUTES is not JSON: every restaurant user is refused")
        return {}
    roles: dict[tuple[str, str], frozenset[str]] = {}
    for key, names in declared.items():
        method, _, path = key.partition(" ")
        roles[(method, path)] = frozenset(names)
    return roles


def declared_tenant_routes() -> TenantRoles:
    """``(method, path template) -> roles`` from ``ATENDE_TENANT_ROUTES`` (none: empty)."""
    return _parse_tenant_routes(os.environ.get(TENANT_ROUTES_ENV, ""))


def tenant_claims(event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The Cognito user pool claims API Gateway's authorizer put in the event (None for
    IAM-authorized admin requests, which carry none)."""
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") if isinstance(context, Mapping) else None
    claims = authorizer.get("claims") if isinstance(authorizer, Mapping) else None
    return dict(claims) if isinstance(claims, Mapping) and claims else None


def check_tenant_access(event: Mapping[str, Any], tenant_roles: TenantRoles) -> None:
    """THE tenant isolation check. A request with Cognito claims may only reach a route
    flagged for its role (``HttpRoute.tenant_roles``), for the tenant in its token; anything
    else is refused with :class:`Forbidden` before any handler runs. Requests without
    claims (IAM admins) pass unchanged."""
    claims = tenant_claims(event)
    if claims is None:
        return
    resource = str(event.get("resource") or "")
    template = resource.removeprefix(TENANT_APP_PREFIX)
    method = str(event.get("httpMethod") or "")
    allowed = tenant_roles.get((method, template))
    if not resource.startswith(f"{TENANT_APP_PREFIX}/") or allowed is None:
        raise Forbidden("this route is not open to restaurant users")
    role = str(claims.get("custom:role") or "")
    if role not in allowed:
        raise Forbidden(f"the role {role or '(none)'!r} may not use this route")
    token_tenant = str(claims.get("custom:tenant_id") or "")
    path_tenant = str((event.get("pathParameters") or {}).get("tenant_id") or "")
    if not token_tenant or token_tenant != path_tenant:
        raise Forbidden("restaurant users reach only their own tenant")


def tenant_user(event: Mapping[str, Any]) -> str | None:
    """``tenant-user:<username>`` for a restaurant user's request (audit trails), else None."""
    claims = tenant_claims(event)
    if claims is None:
        return None
    return f"tenant-user:{claims.get('cognito:username') or claims.get('sub')}"


def request_actor(app: APIGatewayRestResolver) -> str:
    """Who acts, for audit trails: the restaurant user (Cognito claims), else the IAM caller
    in AWS, else the local gateway's stand-in."""
    event = app.current_event
    restaurant_user = tenant_user(event.raw_event)
    if restaurant_user:
        return restaurant_user
    raw = event.raw_event.get("requestContext", {}) or {}
    authorizer = raw.get("authorizer") or {}
    for candidate in (
        event.request_context.identity.user_arn,
        event.request_context.identity.caller,
        authorizer.get("principalId") if isinstance(authorizer, dict) else None,
    ):
        if candidate:
            return str(candidate)
    return "local-admin"


class TenantScopedResolver(APIGatewayRestResolver):
    """Powertools' REST resolver whose every request first passes
    :func:`check_tenant_access` — before routing, validation or any handler, so a refused
    request learns nothing (not even which fields a body lacks)."""

    def __init__(self, tenant_roles: TenantRoles | None = None, **options: Any) -> None:
        super().__init__(enable_validation=True, strip_prefixes=[TENANT_APP_PREFIX], **options)
        self._tenant_roles = tenant_roles

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        roles = self._tenant_roles if self._tenant_roles is not None else declared_tenant_routes()
        try:
            check_tenant_access(event, roles)
        except Forbidden as refused:
            logger.info("tenant user refused", extra={"reason": refused.message})
            request_id = (event.get("requestContext") or {}).get("requestId")
            return {
                "statusCode": int(refused.status),
                "headers": {"Content-Type": content_types.APPLICATION_JSON},
                "body": json.dumps(error_body(refused, correlation_id=request_id)),
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)


def build_resolver(
    *,
    title: str,
    version: str = "1.0.0",
    max_body_bytes: int | Callable[[], int] = DEFAULT_MAX_BODY_BYTES,
    authenticate: Authenticator | None = None,
    tenant_roles: TenantRoles | None = None,
) -> APIGatewayRestResolver:
    """A REST resolver with validation, the platform's error mapping, the request
    precheck (:class:`RequestPrecheck`) and the bounded JSON reading.

    ``max_body_bytes`` may be a callable, read per request (settings load at cold start,
    never at import); ``authenticate`` runs before anything is parsed and raises
    ``Unauthorized`` (public APIs such as ingestion; admin APIs are IAM-authenticated by
    API Gateway and pass none). Restaurant users reach the routes of ``tenant_roles``
    (default: ``ATENDE_TENANT_ROUTES``, set from the wiring) under ``/app``, checked by
    :class:`TenantScopedResolver` before anything else; with none declared every
    tenant-user request is refused."""
    cap = max_body_bytes if callable(max_body_bytes) else (lambda: int(max_body_bytes))

    def deserialize(text: str) -> Any:
        return read_json(text, max_bytes=cap())

    app = TenantScopedResolver(tenant_roles, json_body_deserializer=deserialize)
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
