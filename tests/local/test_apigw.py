"""The local gateway builds the API Gateway REST proxy event the handlers expect."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from atende_local.apigw import (
    BadHandlerResponse,
    HttpRequest,
    RouteMatch,
    RouteTable,
    build_proxy_event,
    map_proxy_response,
)
from functions.wiring_model import FunctionSpec, HttpRoute

_SPEC = FunctionSpec(
    name="provision-admin-api",
    domain="provision",
    handler="functions.provision.handlers.admin_api.handler",
    description="test",
    routes=(
        HttpRoute(method="GET", path="/v1/tenants", auth="admin"),
        HttpRoute(method="POST", path="/v1/tenants", auth="admin"),
        HttpRoute(method="GET", path="/v1/tenants/{tenant_id}", auth="admin"),
        HttpRoute(method="GET", path="/v1/tenants/{tenant_id}/menu", auth="admin"),
        HttpRoute(method="GET", path="/v1/tenants/special", auth="admin"),
        HttpRoute(
            method="DELETE", path="/v1/tenants/{tenant_id}/phone-numbers/{number}", auth="admin"
        ),
    ),
)


def _match(table: RouteTable, method: str, path: str) -> RouteMatch:
    found = table.match(method, path)
    assert isinstance(found, RouteMatch), found
    return found


def _request(**overrides: object) -> HttpRequest:
    values: dict[str, object] = {
        "method": "POST",
        "raw_path": "/v1/tenants",
        "query_string": "",
        "headers": [("Host", "127.0.0.1:8000"), ("Content-Type", "application/json")],
        "body": b'{"name": "Pizzaria"}',
        "source_ip": "127.0.0.9",
    }
    values.update(overrides)
    return HttpRequest(**values)  # type: ignore[arg-type]


def test_the_most_specific_route_wins_and_path_parameters_are_decoded() -> None:
    # Given a literal route and a parameter route on the same level
    table = RouteTable([_SPEC])
    # When paths are matched
    literal = _match(table, "GET", "/v1/tenants/special")
    param = _match(table, "GET", "/v1/tenants/demo-pizzaria")
    number = _match(table, "DELETE", "/v1/tenants/demo-pizzaria/phone-numbers/%2B551130000000")
    # Then the literal resource beats the parameter, and values are URL-decoded
    assert literal.entry.route.path == "/v1/tenants/special"
    assert literal.path_parameters == {}
    assert param.path_parameters == {"tenant_id": "demo-pizzaria"}
    assert number.path_parameters == {"tenant_id": "demo-pizzaria", "number": "+551130000000"}


def test_unknown_path_is_none_and_wrong_method_lists_the_allowed_ones() -> None:
    table = RouteTable([_SPEC])
    assert table.match("GET", "/v2/nothing") is None
    assert sorted(table.match("DELETE", "/v1/tenants")) == ["GET", "POST"]  # type: ignore[arg-type]


def test_text_body_is_passed_as_is_with_the_request_context() -> None:
    # Given a JSON POST with a query string and repeated headers
    table = RouteTable([_SPEC])
    request = _request(
        query_string="tag=a&tag=b&empty=",
        headers=[
            ("Host", "127.0.0.1:8000"),
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", "1.1.1.1"),
            ("X-Forwarded-For", "2.2.2.2"),
            ("User-Agent", "curl/8"),
        ],
        body='{"name": "Pizzaria São Jorge"}'.encode(),
    )
    # When the event is built
    event = build_proxy_event(request, _match(table, "POST", "/v1/tenants"), request_id="req-1")
    # Then body, headers, query and context follow API Gateway's REST proxy format
    assert event["body"] == '{"name": "Pizzaria São Jorge"}'
    assert event["isBase64Encoded"] is False
    assert event["resource"] == "/v1/tenants"
    assert event["path"] == "/v1/tenants"
    assert event["httpMethod"] == "POST"
    assert event["headers"]["X-Forwarded-For"] == "2.2.2.2"
    assert event["multiValueHeaders"]["X-Forwarded-For"] == ["1.1.1.1", "2.2.2.2"]
    assert event["queryStringParameters"] == {"tag": "b", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "empty": [""]}
    assert event["pathParameters"] is None
    context = event["requestContext"]
    assert context["requestId"] == "req-1"
    assert context["resourcePath"] == "/v1/tenants"
    assert context["httpMethod"] == "POST"
    assert context["stage"] == "local"
    assert context["identity"]["sourceIp"] == "127.0.0.9"
    assert context["identity"]["userAgent"] == "curl/8"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/json", b"\xff\xfe{not utf-8}\x00"),
        ("application/octet-stream", b"plain ascii but declared binary"),
        ("image/png", b"\x89PNG\r\n\x1a\n"),
    ],
)
def test_binary_bodies_travel_base64_encoded_byte_for_byte(content_type: str, body: bytes) -> None:
    table = RouteTable([_SPEC])
    request = _request(headers=[("Content-Type", content_type)], body=body)
    event = build_proxy_event(request, _match(table, "POST", "/v1/tenants"))
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body


def test_no_body_is_none() -> None:
    table = RouteTable([_SPEC])
    event = build_proxy_event(_request(method="GET", body=b""), _match(table, "GET", "/v1/tenants"))
    assert event["body"] is None
    assert event["isBase64Encoded"] is False


def test_handler_answer_maps_to_http_with_multi_value_headers_and_base64() -> None:
    # Given an answer with both header maps and a base64 body
    answer = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/pdf", "X-One": "1"},
        "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
        "body": base64.b64encode(b"%PDF\x00\xff").decode(),
        "isBase64Encoded": True,
    }
    # When it is mapped
    response = map_proxy_response(answer)
    # Then status, every header value and the exact bytes come through
    assert response.status == 201
    assert ("Set-Cookie", "a=1") in response.headers
    assert ("Set-Cookie", "b=2") in response.headers
    assert ("X-One", "1") in response.headers
    assert response.body == b"%PDF\x00\xff"


@pytest.mark.parametrize(
    "answer",
    [None, {"body": "no status"}, {"statusCode": "abc"}, {"statusCode": 200, "body": {"x": 1}}],
)
def test_malformed_handler_answers_are_rejected(answer: object) -> None:
    with pytest.raises(BadHandlerResponse):
        map_proxy_response(answer)


def _decoded_body(event: dict[str, object]) -> bytes:
    body = event["body"]
    if body is None:
        return b""
    assert isinstance(body, str)
    return base64.b64decode(body) if event["isBase64Encoded"] else body.encode("utf-8")


@settings(max_examples=200, deadline=None)
@given(
    body=st.binary(max_size=512) | st.text(max_size=200).map(str.encode),
    content_type=st.sampled_from(["application/json", "text/plain", "application/octet-stream"]),
    headers=st.lists(
        st.tuples(
            st.sampled_from(["X-A", "x-b", "X-Signature"]), st.text(alphabet="abc123=,", max_size=8)
        ),
        max_size=6,
    ),
)
def test_any_body_and_headers_reach_the_handler_intact(
    body: bytes, content_type: str, headers: list[tuple[str, str]]
) -> None:
    table = RouteTable([_SPEC])
    request = _request(headers=[("Content-Type", content_type), *headers], body=body)
    event = build_proxy_event(request, _match(table, "POST", "/v1/tenants"))
    # The handler can always recover the exact bytes that were sent...
    assert _decoded_body(event) == body
    # ...and every header value, in order, under the name as sent
    for name in {n for n, _ in headers}:
        assert event["multiValueHeaders"][name] == [v for n, v in headers if n == name]
        assert event["headers"][name] == [v for n, v in headers if n == name][-1]
