"""/openapi.json merges the admin resolvers' documents and names what it could not read."""

from __future__ import annotations

import types
from typing import Any

from pydantic import BaseModel

from atende_local.openapi import merged_openapi
from atende_local.runtime import FunctionRegistry, HandlerUnavailable
from atende_shared.http import build_resolver
from tests.local.conftest import ADMIN, BILLING, ECHO


class _Tenant(BaseModel):
    tenant_id: str
    name: str


def _module_with_routes(path: str) -> Any:
    app = build_resolver(title="part")

    @app.get(path)
    def _get() -> _Tenant:
        return _Tenant(tenant_id="t", name="n")

    return types.SimpleNamespace(app=app)


class _Registry(FunctionRegistry):
    def module(self, name: str) -> Any:
        if name == ADMIN.name:
            return _module_with_routes("/v1/tenants/<tenant_id>")
        raise HandlerUnavailable(name, "ModuleNotFoundError: not written yet")


def test_admin_documents_are_merged_with_a_bearer_scheme() -> None:
    # Given one admin function that imports and one that does not (and a public one)
    registry = _Registry([ADMIN, BILLING, ECHO])
    # When the document is built
    document = merged_openapi(registry, server_url="http://127.0.0.1:9")
    # Then the working resolver's paths and schemas are in, the broken one is named
    assert "/v1/tenants/{tenant_id}" in document["paths"]
    assert "_Tenant" in document["components"]["schemas"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["type"] == "http"
    assert document["security"] == [{"bearerAuth": []}]
    assert document["servers"] == [{"url": "http://127.0.0.1:9"}]
    assert set(document["x-atende-unavailable"]) == {BILLING.name}
