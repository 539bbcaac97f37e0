"""The one place domain errors become HTTP answers, for every API resolver.

``build_resolver()`` returns a Powertools ``APIGatewayRestResolver`` with OpenAPI
validation on and exception handlers registered: ``AtendeError`` → its status and the
standard error body; request validation → 422 with the fields at fault; invalid JSON → 400;
an unknown route → 404 in the same body. ``documented_responses()`` documents those
answers in the generated OpenAPI (Powertools would otherwise describe its own shapes).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from atende_shared.errors import (
    AtendeError,
    Forbidden,
    MalformedRequest,
    NotFound,
    ValidationFailed,
    error_body,
)
from atende_shared.observability import logger


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


def _correlation_id(app: APIGatewayRestResolver) -> str | None:
    try:
        return str(app.current_event.request_context.request_id)
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
        body=error_body(error, correlation_id=_correlation_id(app) if app else None),
    )


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


class TenantScopedResolver(APIGatewayRestResolver):
    """Powertools' REST resolver whose every request first passes
    :func:`check_tenant_access` — before routing, validation or any handler, so a refused
    request learns nothing (not even which fields a body lacks)."""

    def __init__(self, tenant_roles: TenantRoles | None = None) -> None:
        super().__init__(enable_validation=True, strip_prefixes=[TENANT_APP_PREFIX])
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
    *, title: str, version: str = "1.0.0", tenant_roles: TenantRoles | None = None
) -> APIGatewayRestResolver:
    """A REST resolver with validation and the platform's error mapping. Restaurant users
    reach the routes of ``tenant_roles`` (default: ``ATENDE_TENANT_ROUTES``, set from the
    wiring) under ``/app``; with none declared every tenant-user request is refused."""
    app = TenantScopedResolver(tenant_roles)
    app.configure_openapi(title=title, version=version)

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
