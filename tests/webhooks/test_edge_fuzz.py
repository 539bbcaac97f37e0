"""Hostile input at every HTTP route (webhook, ingest and admin): never a 5xx.

Bounded and seeded (hypothesis ``derandomize``: the same examples on every run). Requests
go the way the local gateway sends them: matched against the declared wiring, turned into
the API Gateway proxy event by ``atende_local.apigw.build_proxy_event`` (admin routes with
the IAM identity API Gateway adds after SigV4), handed to the real handler, and its answer
mapped back as API Gateway would (a handler that raises or answers nonsense is a 502).

A 503 is allowed where it is the contract (a dependency down, a delivery in flight); every
other 5xx fails the test with the route and the request that caused it.
"""

from __future__ import annotations

import importlib
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from aws_lambda_powertools.utilities import parameters
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from moto import mock_aws

from atende_local.apigw import (
    LOCAL_ADMIN_IDENTITY,
    BadHandlerResponse,
    HttpRequest,
    RouteTable,
    build_proxy_event,
    map_proxy_response,
)
from atende_local.bootstrap import create_resources
from atende_shared.aws import reset_clients
from atende_shared.settings import reset_settings_cache
from functions.wiring import FUNCTIONS
from functions.wiring_model import FunctionSpec, HttpRoute

TABLE = RouteTable(FUNCTIONS)
EXAMPLES_PER_ROUTE = 12


def _route_param(spec: FunctionSpec, route: HttpRoute) -> Any:
    return pytest.param(spec, route, id=f"{route.method} {route.path}")


ROUTES = [_route_param(f, r) for f in FUNCTIONS for r in f.routes]


@dataclass
class _Context:
    function_name: str = "fuzz"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:fuzz"
    aws_request_id: str = "fuzz"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


@pytest.fixture(scope="module")
def platform_env() -> Iterator[None]:
    """Every declared resource on moto and the environment each function reads."""
    with pytest.MonkeyPatch.context() as patch, mock_aws():
        reset_clients()
        resources = create_resources(prefix="fuzz")
        for name, value in resources.env.items():
            patch.setenv(name, value)
        patch.setenv("LIVEKIT_URL", "http://livekit.invalid:7880")
        patch.setenv("LIVEKIT_API_KEY", "APIfuzz")
        patch.setenv("LIVEKIT_API_SECRET", "fuzz-secret-with-enough-entropy-0123456789")
        patch.setenv("ATENDE_ASAAS_API_URL", "off")
        reset_settings_cache()
        parameters.clear_caches()
        yield
    reset_clients()
    reset_settings_cache()
    parameters.clear_caches()


# -- hostile pieces ------------------------------------------------------------------------

_DEEP = b"[" * 1_000 + b"]" * 1_000
_DEEP_OBJECT = b'{"a":' * 1_000 + b"1" + b"}" * 1_000
_HUGE_INT = b'{"amount_cents": ' + b"9" * 5_000 + b"}"
_NOT_UTF8 = b'{"name": "\xff\xfe\xfa"}'
_BODIES = st.one_of(
    st.sampled_from([b"", b"{}", b"[]", b"null", b"0", b'"x"', _DEEP, _DEEP_OBJECT, _HUGE_INT]),
    st.sampled_from([_NOT_UTF8, b"\x00\x01\x02", b"{" * 50, b'{"a": NaN}', b'{"a": 1e999}']),
    st.binary(max_size=256),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda v: json.dumps(v).encode()),
)
_CONTENT_TYPES = st.sampled_from(
    [
        "application/json",
        "application/webhook+json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/octet-stream",
        "",
    ]
)
_SEGMENTS = st.one_of(
    st.sampled_from(["acme", "demo-pizzaria", "a", "x" * 200, "..", "%2e%2e", "-", "catalog"]),
    st.text(
        alphabet=st.characters(blacklist_characters="/?#", blacklist_categories=["Cs"]),
        min_size=1,
        max_size=30,
    ),
)
_HEADER_VALUES = st.one_of(
    st.sampled_from(["", "Bearer x", "sha256=" + "0" * 64, "v1,AAAA", "null"]),
    st.text(max_size=40, alphabet=st.characters(min_codepoint=32, max_codepoint=126)),
)
_QUERY = st.sampled_from(
    ["", "limit=0", "limit=-1", "limit=99999999999999999999", "cursor=%00", "cursor=e30",
     "from=not-a-date", "token=x"]
)  # fmt: skip


def _path(route: HttpRoute, values: list[str]) -> str:
    names = iter(range(100))
    return re.sub(
        r"{[A-Za-z0-9_]+}",
        lambda _: quote(values[next(names) % len(values)].replace("/", "_"), safe=""),
        route.path,
    )


def _call(spec: FunctionSpec, request: HttpRequest) -> tuple[int, str]:
    found = TABLE.match(request.method, request.raw_path)
    if found is None or isinstance(found, list):
        return (404 if found is None else 405), "no route"
    caller = LOCAL_ADMIN_IDENTITY if found.entry.route.auth == "admin" else None
    event = build_proxy_event(request, found, request_id=str(uuid.uuid4()), caller=caller)
    module, _, attribute = found.entry.function.handler.rpartition(".")
    handler = getattr(importlib.import_module(module), attribute)
    try:
        answer = handler(event, _Context())
        response = map_proxy_response(answer)
    except BadHandlerResponse as exc:
        return 502, f"bad handler response: {exc}"
    except Exception as exc:  # API Gateway answers 502 for a handler that raised
        return 502, f"{type(exc).__name__}: {exc}"
    return response.status, response.body[:300].decode("utf-8", "replace")


def _request(route: HttpRoute, body: bytes, content_type: str, segments: list[str],
             header: str, query: str) -> HttpRequest:  # fmt: skip
    headers = [
        ("Content-Type", content_type),
        ("Authorization", header),
        ("X-Bling-Signature-256", header),
        ("asaas-access-token", header),
        ("Client-Token", header),
        ("apikey", header),
        ("webhook-id", header),
        ("webhook-timestamp", header),
        ("webhook-signature", header),
        ("X-Correlation-Id", header),
    ]
    return HttpRequest(route.method, _path(route, segments), query, headers, body)


@pytest.mark.parametrize(("spec", "route"), ROUTES)
@pytest.mark.parametrize(
    "body",
    [_DEEP, _DEEP_OBJECT, _HUGE_INT, _NOT_UTF8],
    ids=["nested-1000-array", "nested-1000-object", "int-5000-digits", "not-utf8"],
)
def test_known_hostile_bodies_never_get_a_5xx(
    platform_env: None, spec: FunctionSpec, route: HttpRoute, body: bytes
) -> None:
    request = _request(route, body, "application/json", ["acme"], "Bearer x", "")
    status, detail = _call(spec, request)
    assert status < 500 or status == 503, f"{route.method} {request.raw_path} -> {status}: {detail}"


@pytest.mark.parametrize(("spec", "route"), ROUTES)
def test_no_route_answers_5xx_to_hostile_input(
    platform_env: None, spec: FunctionSpec, route: HttpRoute
) -> None:
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        derandomize=True,
        database=None,
        phases=[Phase.explicit, Phase.generate],  # bounded: no shrinking, the report names it
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        body=_BODIES,
        content_type=_CONTENT_TYPES,
        segments=st.lists(_SEGMENTS, min_size=1, max_size=3),
        header=_HEADER_VALUES,
        query=_QUERY,
    )
    def hostile(
        body: bytes, content_type: str, segments: list[str], header: str, query: str
    ) -> None:
        request = _request(route, body, content_type, segments, header, query)
        status, detail = _call(spec, request)
        assert status < 500 or status == 503, (
            f"{route.method} {request.raw_path} -> {status}: {detail}\n"
            f"content-type={content_type!r} body={body[:120]!r}"
        )

    hostile()
