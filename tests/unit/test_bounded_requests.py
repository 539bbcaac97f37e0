"""Hostile bodies and the one request convention: every refusal is a 4xx with the
platform's error body and the correlation id, decided before anything is parsed."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Annotated, Any

import pytest
from aws_lambda_powertools.event_handler.openapi.params import Body
from pydantic import BaseModel

from atende_shared.errors import MalformedRequest, PayloadTooLarge, Unauthorized
from atende_shared.http import build_resolver
from atende_shared.jsonbody import MAX_DEPTH, MAX_INT_DIGITS, read_json
from atende_shared.models.common import Cents

DEEP = "[" * 1_000 + "]" * 1_000
HUGE_INT = '{"amount_cents": ' + "9" * 4_301 + "}"
NOT_UTF8 = b'{"name": "caf\xe9"}'


@pytest.mark.parametrize(
    "raw",
    [
        DEEP,
        "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1),
        HUGE_INT,
        '{"n": ' + "1" * (MAX_INT_DIGITS + 1) + "}",
        NOT_UTF8,
        '{"x": NaN}',
        '{"x": 1e999}',
        "{not json",
        "\ud800",
    ],
)
def test_hostile_json_is_a_malformed_request(raw: str | bytes) -> None:
    with pytest.raises(MalformedRequest):
        read_json(raw)


def test_ordinary_json_reads_and_the_cap_comes_first() -> None:
    assert read_json('{"a": [1, 2.5, "é"]}') == {"a": [1, 2.5, "é"]}
    assert read_json("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    # The size is decided on the bytes, before parsing (an invalid body is still a 413)
    with pytest.raises(PayloadTooLarge):
        read_json("{" * 2_000, max_bytes=1_000)


class Thing(BaseModel):
    name: str
    amount_cents: Cents


def _app(**kwargs: Any):
    app = build_resolver(title="test", max_body_bytes=8_192, **kwargs)

    @app.put("/v1/tenants/<tenant_id>/thing")
    def put_thing(tenant_id: str, body: Annotated[Thing, Body()]) -> Thing:
        return body

    return app


def _event(
    body: str | bytes | None,
    *,
    tenant: str = "acme-foods",
    headers: dict[str, str] | None = None,
    binary: bool = False,
) -> dict[str, Any]:
    if isinstance(body, bytes):
        text: str | None = base64.b64encode(body).decode()
        binary = True
    else:
        text = body
    path = f"/v1/tenants/{tenant}/thing"
    return {
        "resource": "/v1/tenants/{tenant_id}/thing",
        "path": path,
        "httpMethod": "PUT",
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "pathParameters": {"tenant_id": tenant},
        "queryStringParameters": None,
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "test"},
        "body": text,
        "isBase64Encoded": binary,
    }


def _answer(app: Any, event: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    answer = app.resolve(event, None)
    return answer["statusCode"], json.loads(answer["body"])


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        (DEEP, {}, 400, "malformed_request"),
        (HUGE_INT, {}, 400, "malformed_request"),
        (NOT_UTF8, {}, 400, "malformed_request"),
        ("{" * 10_000, {}, 413, "payload_too_large"),  # over the cap AND invalid: 413 first
        ('{"name": "x", "amount_cents": 1}', {"Content-Type": "text/plain"}, 415, None),
        ('{"name": "x", "amount_cents": "1"}', {}, 422, "validation_failed"),  # strict cents
        ('{"name": "x", "amount_cents": 1}', {}, 200, None),
    ],
)
def test_every_refusal_carries_the_error_body_and_the_correlation_id(
    body: str | bytes, headers: dict[str, str], status: int, code: str | None
) -> None:
    # Given a resolver built the one way, with an 8 KiB cap
    app = _app()
    # When a hostile body arrives with the caller's correlation id
    event = _event(body, headers={**headers, "X-Correlation-Id": "trace-123"})
    got, answer = _answer(app, event)
    # Then it is refused with the platform's body, and the caller's id comes back
    assert got == status, answer
    if status >= 400:
        assert set(answer) == {"error", "correlation_id"}
        assert answer["correlation_id"] == "trace-123"
        if code:
            assert answer["error"]["code"] == code


def test_without_a_header_the_request_id_is_the_correlation_id_never_a_literal() -> None:
    event = _event(DEEP)
    status, answer = _answer(_app(), event)
    assert status == 400
    assert answer["correlation_id"] == event["requestContext"]["requestId"]


def test_a_malformed_tenant_id_is_refused_even_on_an_untyped_route() -> None:
    # Given a route that declared tenant_id as a plain str (a newcomer's mistake)
    status, answer = _answer(_app(), _event('{"name": "x", "amount_cents": 1}', tenant="NOPE_"))
    # Then the precheck still refuses it like TenantPath would
    assert status == 422
    assert answer["error"]["details"]["fields"][0]["field"] == "path.tenant_id"


def test_authentication_comes_before_any_reading_of_the_body() -> None:
    # Given an API whose callers need a token
    def authenticate(app: Any) -> None:
        if app.current_event.headers.get("authorization") != "Bearer ok":
            raise Unauthorized("no token")

    app = _app(authenticate=authenticate)
    # When bodies that are invalid, oversized or hostile arrive without the token
    for body in ('{"name": 1}', "{" * 10_000, DEEP):
        status, answer = _answer(app, _event(body))
        # Then all the caller learns is 401: no field-level details, no size
        assert status == 401
        assert "details" not in answer["error"]
    # And with the token the same invalid body gets its field-level details
    status, answer = _answer(app, _event('{"name": 1}', headers={"Authorization": "Bearer ok"}))
    assert status == 422
    assert answer["error"]["details"]["fields"]
