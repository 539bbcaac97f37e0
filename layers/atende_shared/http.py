"""The one place domain errors become HTTP answers, for every API resolver.

``build_resolver()`` returns a Powertools ``APIGatewayRestResolver`` with OpenAPI
validation on and exception handlers registered: ``AtendeError`` → its status and the
standard error body; request validation → 422 with the fields at fault; invalid JSON → 400;
an unknown route → 404 in the same body. ``documented_responses()`` documents those
answers in the generated OpenAPI (Powertools would otherwise describe its own shapes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from pydantic import BaseModel, Field

from atende_shared.errors import (
    AtendeError,
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


def build_resolver(*, title: str, version: str = "1.0.0") -> APIGatewayRestResolver:
    """A REST resolver with validation and the platform's error mapping."""
    app = APIGatewayRestResolver(enable_validation=True)
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
