"""The one place domain errors become HTTP answers, for every API resolver.

``build_resolver()`` returns a Powertools ``APIGatewayRestResolver`` with OpenAPI
validation on and exception handlers registered: ``AtendeError`` → its status and the
standard error body; request validation → 422 with the fields at fault; invalid JSON → 400.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from atende_shared.errors import AtendeError, MalformedRequest, ValidationFailed, error_body
from atende_shared.observability import logger


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
