"""Fixtures for the local platform's tests: a gateway served over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from atende_local.gateway import Gateway, LocalHttpServer
from atende_local.runtime import FunctionRegistry
from functions.wiring_model import FunctionSpec, HttpRoute

TOKEN = "test-admin-token"

ECHO = FunctionSpec(
    name="webhooks-echo",
    domain="webhooks",
    handler="functions.webhooks.handlers.echo.handler",
    description="answers with the event it received",
    routes=(HttpRoute(method="POST", path="/echo/{tenant_id}", auth="public-signed"),),
)
ADMIN = FunctionSpec(
    name="provision-admin-api",
    domain="provision",
    handler="functions.provision.handlers.admin_api.handler",
    description="admin routes answered by a fake",
    routes=(
        HttpRoute(method="GET", path="/v1/tenants", auth="admin"),
        HttpRoute(method="GET", path="/v1/tenants/{tenant_id}", auth="admin"),
    ),
)
BILLING = FunctionSpec(
    name="billing-admin-api",
    domain="billing",
    handler="functions.billing.handlers.admin_api.handler",
    description="admin routes answered by a fake",
    routes=(
        HttpRoute(method="GET", path="/v1/tenants/{tenant_id}/balance", auth="admin"),
        HttpRoute(method="GET", path="/v1/tenants/{tenant_id}/ledger", auth="admin"),
    ),
)
BROKEN = FunctionSpec(
    name="sync-ingest",
    domain="sync",
    handler="functions.sync.handlers.does_not_exist_yet.handler",
    description="a module that does not import",
    routes=(HttpRoute(method="POST", path="/ingest/{tenant_id}/batches", auth="public-signed"),),
)


def echo_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(
            {"event": event, "function_name": context.function_name},
        ),
    }


def admin_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    tenant = {"tenant_id": "demo-pizzaria", "name": "Pizzaria Demo", "status": "active"}
    if event["resource"] == "/v1/tenants":
        cursor = (event.get("queryStringParameters") or {}).get("cursor")
        if cursor is None:  # two pages, to exercise the CLI's cursor following
            body: Any = {"items": [tenant], "next_cursor": "TENANT#demo-pizzaria"}
        else:
            second = {"tenant_id": "pizzaria-two", "name": "Pizzaria Dois", "status": "active"}
            body = {"items": [second], "next_cursor": None}
    elif event["pathParameters"]["tenant_id"] != "demo-pizzaria":
        return {
            "statusCode": 404,
            "body": json.dumps({"error": {"code": "not_found", "message": "tenant not found"}}),
        }
    else:
        body = tenant
    return {"statusCode": 200, "body": json.dumps(body)}


def billing_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event["resource"].endswith("/balance"):
        body: Any = {"tenant_id": "demo-pizzaria", "balance_cents": 50_000}
        return {"statusCode": 200, "body": json.dumps(body)}
    query = event.get("queryStringParameters") or {}
    if int(query.get("limit", "50")) > 100:  # the API's answer, field by field
        refusal = {
            "error": {
                "code": "validation_failed",
                "message": "request failed validation",
                "details": {
                    "fields": [
                        {"field": "query.limit", "problem": "Input should be <= 100"},
                    ]
                },
            },
            "correlation_id": "cid-ledger-1",
        }
        return {"statusCode": 422, "body": json.dumps(refusal)}
    entry = {"entry_id": "e1", "amount_cents": 50_000, "kind": "credit", "query": query}
    body = {"items": [entry], "next_cursor": None}
    return {"statusCode": 200, "body": json.dumps(body)}


@dataclass
class Served:
    url: str
    registry: FunctionRegistry
    triggered: list[tuple[str, str | None]] = field(default_factory=list)
    replayed: list[str] = field(default_factory=list)

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)


@pytest.fixture
def served() -> Iterator[Served]:
    """Given the gateway on a free port, serving fake handlers for a few declared routes."""
    registry = FunctionRegistry([ECHO, ADMIN, BILLING, BROKEN])
    handlers: dict[str, Callable[[dict[str, Any], Any], Any]] = {
        ECHO.name: echo_handler,
        ADMIN.name: admin_handler,
        BILLING.name: billing_handler,
    }
    for name, handler in handlers.items():
        registry.override(name, handler)
    state = Served(url="", registry=registry)

    def trigger(function: str, schedule: str | None) -> dict[str, Any]:
        if function != "sync-scheduler":
            raise LookupError(f"function {function!r} has no schedule")
        state.triggered.append((function, schedule))
        return {"function": function, "schedule": schedule or "default", "ok": True}

    def queues() -> list[dict[str, Any]]:
        return [
            {
                "name": "atende-local-calls",
                "visible": 0,
                "in_flight": 1,
                "dlq_name": "atende-local-calls-dlq",
                "dlq_visible": 3,
                "max_receive_count": 5,
            }
        ]

    def replay(queue: str) -> dict[str, Any]:
        if queue != "calls":
            raise LookupError(f"no single queue matches {queue!r}")
        state.replayed.append(queue)
        return {"queue": "atende-local-calls", "moved": 3, "failed": 0}

    gateway = Gateway(registry, admin_token=TOKEN, trigger=trigger, queues=queues, replay=replay)
    server = LocalHttpServer(("127.0.0.1", 0), gateway)
    thread = server.start_in_thread()
    state.url = f"http://127.0.0.1:{server.port}"
    yield state
    server.shutdown()
    server.server_close()
    thread.join(5)
