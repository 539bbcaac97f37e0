"""Schemathesis against the admin API's generated OpenAPI: no 500s, answers match the schema.

Driven in-process through a WSGI adapter that builds API Gateway events for the real
handler (moto + fake LiveKit behind it). Few examples per operation so it runs in seconds.
"""

from __future__ import annotations

import json
import zlib

import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.provision.conftest import Stack
from tests.provision.wsgi import admin_wsgi_app

schema = schemathesis.openapi.from_wsgi("/openapi.json", admin_wsgi_app)
SEEDED = "acme-foods"


@schema.parametrize()
@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    # Schemathesis' coverage phase adds ~1,000 explicit examples here (20 s on a busy
    # 2-core box); random generation alone keeps the suite fast and still finds 5xx.
    phases=[Phase.generate],
)
def test_admin_api_honours_its_openapi(case: schemathesis.Case, stack: Stack) -> None:
    # Given a tenant that exists, so generated calls reach past the 404s half the time
    if not getattr(stack, "seeded", False):
        stack.admin("POST", "/v1/tenants", body={"tenant_id": SEEDED, "name": "Acme"})
        stack.seeded = True  # type: ignore[attr-defined]
    if (
        case.path_parameters
        and "tenant_id" in case.path_parameters
        and zlib.crc32(repr(case.body).encode()) % 2
    ):
        case.path_parameters["tenant_id"] = SEEDED
    # When the generated request is sent, Then no 5xx and the answer matches the document
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )


def test_every_wired_admin_route_is_documented_with_a_summary_and_typed_bodies() -> None:
    from functions.provision.handlers.admin_api import app
    from functions.wiring import function

    document = json.loads(app.get_openapi_json_schema())
    spec = function("provision-admin-api")
    for route in spec.routes:
        operation = document["paths"][route.path][route.method.lower()]
        assert operation.get("summary"), f"{route.method} {route.path} has no summary"
        success = [c for c in operation["responses"] if c.startswith("2")]
        assert success, f"{route.method} {route.path} documents no success"
        content = operation["responses"][success[0]]["content"]["application/json"]
        assert content["schema"], f"{route.method} {route.path} has an untyped answer"
        error = operation["responses"]["422"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}
        if route.method in {"POST", "PUT", "PATCH"} and "requestBody" in operation:
            assert operation["requestBody"]["content"]["application/json"]["schema"]
