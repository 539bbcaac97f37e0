"""Domain exceptions, in one module, and their single mapping to HTTP answers.

Logic raises these; only the API resolvers translate them (see ``atende_shared.http``).
Storage and provider errors are wrapped with ``raise ... from exc`` so the cause survives.
"""

from __future__ import annotations

from http import HTTPStatus


class AtendeError(Exception):
    """Base of every error the platform raises on purpose."""

    status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR
    code: str = "internal_error"
    #: Whether the message is safe to show to the caller. Internal errors never are.
    public: bool = False

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class ConfigurationError(AtendeError):
    """The function's environment is missing or invalid (fails the cold start)."""

    code = "configuration_error"


class ValidationFailed(AtendeError):
    """The request is well-formed but breaks a rule (bad phone number, bad amount...)."""

    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "validation_failed"
    public = True


class MalformedRequest(AtendeError):
    """The request body cannot be parsed at all (not JSON, wrong content type)."""

    status = HTTPStatus.BAD_REQUEST
    code = "malformed_request"
    public = True


class Unauthorized(AtendeError):
    """Authentication failed. The reason is logged, never returned."""

    status = HTTPStatus.UNAUTHORIZED
    code = "unauthorized"
    public = False


class Forbidden(AtendeError):
    """Authenticated, but this caller may not do this (a tenant user outside its tenant
    or role). Says nothing about whether the resource exists."""

    status = HTTPStatus.FORBIDDEN
    code = "forbidden"
    public = True


class NotFound(AtendeError):
    """The resource does not exist (or belongs to another tenant: same answer)."""

    status = HTTPStatus.NOT_FOUND
    code = "not_found"
    public = True


class Conflict(AtendeError):
    """The change conflicts with the current state (number owned by another tenant...)."""

    status = HTTPStatus.CONFLICT
    code = "conflict"
    public = True


class PreconditionFailed(AtendeError):
    """The resource changed since the version the client named (``If-Match``)."""

    status = HTTPStatus.PRECONDITION_FAILED
    code = "precondition_failed"
    public = True


class PayloadTooLarge(AtendeError):
    """The body exceeds the configured maximum."""

    status = HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    code = "payload_too_large"
    public = True


class UnsupportedMediaType(AtendeError):
    """The content type is not one the route accepts."""

    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"
    public = True


class DependencyUnavailable(AtendeError):
    """A downstream (DynamoDB, SQS, LiveKit, a provider) failed; the caller should retry."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "dependency_unavailable"
    public = False


class StorageError(DependencyUnavailable):
    """A DynamoDB/S3 call failed for a reason other than a condition."""

    code = "storage_error"


class PermanentFailure(AtendeError):
    """A message that can never be applied, whatever the number of retries (a payment for
    another tenant's customer, a body that is not the documented shape...). ``reason`` is a
    short machine-readable slug (logged, counted, put on the dead-lettered message)."""

    code = "permanent_failure"

    def __init__(
        self, reason: str, message: str, *, details: dict[str, object] | None = None
    ) -> None:
        super().__init__(message, details=details)
        self.reason = reason


def error_body(error: AtendeError, *, correlation_id: str | None = None) -> dict[str, object]:
    """The JSON body every API answers errors with: code, message, correlation id.

    Non-public errors get a generic message; the real one is in the logs under the same
    correlation id.
    """
    message = error.message if error.public else HTTPStatus(error.status).phrase
    body: dict[str, object] = {"error": {"code": error.code, "message": message}}
    if error.public and error.details:
        body["error"]["details"] = error.details  # type: ignore[index]
    if correlation_id:
        body["correlation_id"] = correlation_id
    return body
