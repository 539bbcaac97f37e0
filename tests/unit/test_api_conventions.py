"""The API conventions, enforced on every route declared in ``functions/wiring.py``.

New routes are checked automatically: the routes come from the wiring, the shapes from
each resolver's own OpenAPI document. A route that breaks the error body, the pagination
convention or the document's validity fails here.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import pytest
from openapi_spec_validator import validate

from atende_local.apigw import api_event
from atende_local.openapi import merged_openapi
from atende_local.runtime import FunctionRegistry, context_for
from atende_shared.pagination import DEFAULT_LIMIT, MAX_LIMIT
from functions.wiring import FUNCTIONS
from functions.wiring_model import FunctionSpec

HTTP = [spec for spec in FUNCTIONS if spec.routes]
#: The webhook ingress' document is the edge's (senders do not read it); its error
#: answers are still checked at runtime below, like every route's.
_UNDOCUMENTED_DOMAINS = {"webhooks"}
LEGACY_LIST_FIELDS = {"cursor", "runs", "next_token", "continuation"}


def _app(spec: FunctionSpec) -> Any:
    return importlib.import_module(spec.handler.rsplit(".", 1)[0]).app


def _document(spec: FunctionSpec) -> dict[str, Any]:
    return dict(json.loads(_app(spec).get_openapi_json_schema()))


def _operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, operations in document.get("paths", {}).items()
        for method, operation in operations.items()
    ]


def _schema(document: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = schema.get("$ref")
    if ref:
        return dict(document["components"]["schemas"][ref.rsplit("/", 1)[-1]])
    return dict(schema)


def test_the_published_admin_document_is_valid_openapi() -> None:
    # Given every admin resolver, merged by Powertools' OpenAPIMerge
    document = merged_openapi(FunctionRegistry(FUNCTIONS), server_url="http://127.0.0.1:9")
    # Then every admin function contributed, and the document validates
    assert "x-atende-unavailable" not in document
    assert document["openapi"].startswith("3.1")
    validate(document)


@pytest.mark.parametrize("spec", HTTP, ids=lambda s: s.name)
def test_each_resolver_publishes_a_valid_document(spec: FunctionSpec) -> None:
    validate(_document(spec))


@pytest.mark.parametrize("spec", HTTP, ids=lambda s: s.name)
def test_errors_are_documented_as_the_one_error_body(spec: FunctionSpec) -> None:
    if spec.handler.split(".")[1] in _UNDOCUMENTED_DOMAINS:
        pytest.skip("webhook documents are the edge's; runtime answers are checked below")
    document = _document(spec)
    for method, path, operation in _operations(document):
        answers = operation["responses"]
        assert {"400", "422", "503"} <= set(answers), f"{method} {path}: use documented_responses"
        for status, response in answers.items():
            if int(status) >= 400:
                ref = response["content"]["application/json"]["schema"]["$ref"]
                assert ref.endswith("/ErrorBody"), f"{method} {path} {status}"


@pytest.mark.parametrize("spec", HTTP, ids=lambda s: s.name)
def test_every_list_is_a_page_with_limit_and_cursor(spec: FunctionSpec) -> None:
    document = _document(spec)
    for method, path, operation in _operations(document):
        where = f"{method} {path}"
        query = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
        ok = [s for s in operation["responses"] if s.startswith("2")]
        schemas = [_schema(document, operation["responses"][s]) for s in ok]
        for schema in schemas:
            properties = schema.get("properties", {})
            assert not LEGACY_LIST_FIELDS & set(properties), f"{where}: use Page[T]"
            is_list = properties.get("items", {}).get("type") == "array"
            if is_list or {"limit", "cursor"} & set(query):
                # Then it is the one shape, with the one pair of parameters
                assert set(properties) == {"items", "next_cursor"}, f"{where}: answer Page[T]"
                assert {"limit", "cursor"} <= set(query), f"{where}: take PageLimit/PageCursor"
                limit = query["limit"]["schema"]
                assert (limit["maximum"], limit["default"]) == (MAX_LIMIT, DEFAULT_LIMIT), where


def _probe(route_path: str, tenant: str) -> str:
    return (
        route_path.replace("{tenant_id}", tenant)
        .replace("{stream}", "catalog")
        .replace("{path_secret}", "x" * 16)
        .replace("{number}", "%2B5511999990000")
        .replace("{run_id}", "r1")
        .replace("{order_id}", "o1")
    )


ROUTES = [(spec, route) for spec in HTTP for route in spec.routes]


@pytest.mark.parametrize(("spec", "route"), ROUTES, ids=[f"{r.method} {r.path}" for _, r in ROUTES])
def test_every_error_answer_carries_the_error_body_and_the_callers_correlation_id(
    aws: Any, spec: FunctionSpec, route: Any
) -> None:
    # Given a hostile request: a malformed tenant id, a forged cursor and, where a body
    # goes, nested JSON
    handler = importlib.import_module(spec.handler.rsplit(".", 1)[0]).handler
    tenant = "NOT_A_TENANT" if "{tenant_id}" in route.path else ""
    body = "[" * 1_000 + "]" * 1_000 if route.method in {"POST", "PUT", "PATCH"} else None
    event = api_event(
        route.method,
        _probe(route.path, tenant),
        body=body,
        headers={"X-Correlation-Id": "probe-42"},
        query={"cursor": "c1.eyJwIjoxfQ.AAAAAAAAAAAAAAAAAAAAAA"} if route.method == "GET" else None,
    )
    # When the real handler answers it
    answer = handler(event, context_for(spec))
    # Then it is a 4xx in the one error body, carrying the caller's correlation id
    status = answer["statusCode"]
    payload = json.loads(answer["body"])
    assert 400 <= status < 500, (status, payload)
    assert set(payload) == {"error", "correlation_id"}, payload
    assert {"code", "message"} <= set(payload["error"])
    assert payload["correlation_id"] == "probe-42"
