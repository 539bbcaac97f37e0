"""The local platform over HTTP only: health, admin auth, errors, docs, and redrive."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from functions.wiring import FUNCTIONS
from tests.e2e.conftest import PlatformClient, start_platform

pytestmark = pytest.mark.e2e


def test_health_reports_every_component(platform: PlatformClient) -> None:
    answer = platform.http.get("/health")
    assert answer.status_code == 200
    components = answer.json()["components"]
    assert components["moto"]["ok"] is True
    assert all(p["running"] for p in components["pumps"].values())
    assert components["scheduler"]["running"] is True
    assert components["livekit"] in {"real", "fake", "offline"}
    assert set(components["functions"]) >= {"webhooks-ingress", "provision-admin-api"}


def test_admin_routes_need_the_token(platform: PlatformClient) -> None:
    # Given the tenant list, an admin route
    without = platform.http.get("/v1/tenants")
    wrong = platform.http.get("/v1/tenants", headers={"Authorization": "Bearer wrong"})
    right = platform.http.get("/v1/tenants", headers=platform.admin)
    # Then only the right token gets through, and the demo tenant is there
    assert without.status_code == 401
    assert without.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert right.status_code == 200, right.text
    assert platform.demo_tenant_id in json.dumps(right.json())


def test_unknown_route_is_404(platform: PlatformClient) -> None:
    answer = platform.http.get("/v1/nothing-here")
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"


def test_malformed_json_to_an_admin_post_is_400_with_a_clear_message(
    platform: PlatformClient,
) -> None:
    answer = platform.http.post(
        "/v1/tenants",
        content=b'{"tenant_id": "x", "name": ',
        headers={**platform.admin, "Content-Type": "application/json"},
    )
    assert answer.status_code == 400, answer.text
    error = answer.json()["error"]
    assert error["code"] == "malformed_request"
    assert "JSON" in error["message"]


def test_openapi_and_swagger_ui_are_served_locally(platform: PlatformClient) -> None:
    document = platform.http.get("/openapi.json")
    page = platform.http.get("/docs")
    script = platform.http.get("/docs/swagger-ui-bundle.min.js")
    assert document.status_code == 200
    paths = document.json()["paths"]
    assert "/v1/tenants" in paths
    assert document.json()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert page.status_code == 200
    assert "swagger-ui-bundle.min.js" in page.text
    assert script.status_code == 200


def test_the_openapi_document_covers_exactly_the_declared_admin_routes(
    platform: PlatformClient,
) -> None:
    # Given the admin routes declared in the wiring (what API Gateway will expose)
    declared = {
        (route.method.lower(), route.path)
        for spec in FUNCTIONS
        for route in spec.routes
        if route.auth == "admin"
    }
    # When the merged document is fetched
    document = platform.http.get("/openapi.json").json()
    documented = {(method, path) for path, ops in document["paths"].items() for method in ops}
    # Then the resolvers and the wiring agree, route for route
    assert "x-atende-unavailable" not in document
    assert documented == declared


def test_the_demo_tenant_has_a_balance_and_a_provisioned_number(platform: PlatformClient) -> None:
    tenant = platform.demo_tenant_id
    balance = platform.http.get(f"/v1/tenants/{tenant}/balance", headers=platform.admin)
    assert balance.status_code == 200, balance.text
    assert balance.json()["balance_cents"] > 0

    def provisioned() -> dict[str, Any] | None:
        answer = platform.http.get(f"/v1/tenants/{tenant}/phone-numbers", headers=platform.admin)
        items = answer.json().get("items", [])
        return next((i for i in items if i.get("status") == "active"), None)

    number = platform.wait_for(provisioned, timeout=60)
    assert number["number"] == "+551130000000"


def _asaas(platform: PlatformClient, event_id: str, payment_id: str, reference: str) -> int:
    body = {
        "id": event_id,
        "event": "PAYMENT_RECEIVED",
        "dateCreated": datetime.now(UTC).isoformat(),
        "payment": {
            "id": payment_id,
            "customer": "cus_demo000001",
            "value": 10.0,
            "status": "RECEIVED",
            "externalReference": reference,
        },
    }
    answer = platform.http.post(
        f"/webhooks/asaas/{platform.demo_tenant_id}",
        json=body,
        headers={"asaas-access-token": platform.demo_secrets["asaas"]["webhook_token"]},
    )
    return answer.status_code


def test_a_failing_message_ends_in_the_dlq_while_its_batch_mates_succeed(
    platform: PlatformClient,
) -> None:
    tenant = platform.demo_tenant_id
    run = uuid.uuid4().hex[:8]
    good, poison = [f"pay_{run}_1", f"pay_{run}_3"], f"evt_{run}_2"

    def ledger_ids() -> str:
        answer = platform.http.get(f"/v1/tenants/{tenant}/ledger", headers=platform.admin)
        return json.dumps(answer.json())

    def dead_letters() -> str:
        answer = platform.http.get("/_local/dlq/payments/messages", headers=platform.admin)
        return json.dumps(answer.json())

    # When two good payments and a poison one (its reference names another tenant, which
    # billing refuses on every attempt) arrive together through the real webhook route
    statuses = [
        _asaas(platform, f"evt_{run}_1", good[0], f"atende:{tenant}"),
        _asaas(platform, poison, f"pay_{run}_2", "atende:someone-else"),
        _asaas(platform, f"evt_{run}_3", good[1], f"atende:{tenant}"),
    ]
    assert all(200 <= s < 300 for s in statuses), statuses
    # Then the poison lands in the payments DLQ (at once: billing dead-letters it itself)...
    platform.wait_for(lambda: poison in dead_letters(), timeout=120)

    # ...while both good payments were credited, each exactly once
    def credited_ledger() -> str | None:
        text = ledger_ids()
        return text if all(p in text for p in good) else None

    ledger = platform.wait_for(credited_ledger, timeout=60)
    entries = json.loads(ledger)
    rows = entries.get("entries") or entries.get("items") or []
    credited = [row for row in rows if any(p in json.dumps(row) for p in good)]
    assert len(credited) == 2
    assert f"pay_{run}_2" not in ledger
    assert platform.queues()["payments"]["visible"] == 0


def _cli(platform: PlatformClient, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ATENDE_URL": platform.base_url,
        "ATENDE_ADMIN_TOKEN": platform.token,
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "atende_local.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_admin_cli_talks_to_the_platform(platform: PlatformClient) -> None:
    tenants = _cli(platform, "tenants", "list", "--json")
    table = _cli(platform, "balance", platform.demo_tenant_id)
    queues = _cli(platform, "dlq", "list", "--json")
    missing = _cli(platform, "tenants", "show", "no-such-tenant")
    assert tenants.returncode == 0, tenants.stderr
    assert platform.demo_tenant_id in tenants.stdout
    assert table.returncode == 0, table.stderr
    assert "R$" in table.stdout
    assert queues.returncode == 0, queues.stderr
    assert {q["name"] for q in json.loads(queues.stdout)} >= {"atende-local-calls"}
    assert missing.returncode == 1
    assert "404" in missing.stderr


def test_sigterm_stops_everything_cleanly(tmp_path: Path) -> None:
    # Given a second platform (the session one keeps running)
    running = start_platform(tmp_path, ATENDE_SEED_DEMO="false")
    url = running.client.base_url
    # When it gets SIGTERM (what `docker stop` or a supervisor sends)
    status = running.stop(signal.SIGTERM)
    # Then it exits 0 by itself, its port is free and its state file is gone
    assert status == 0, running.stderr
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}/health", timeout=2)
    assert not (tmp_path / "local.json").exists()


def test_livekit_webhooks_signed_with_the_printed_dev_key_are_accepted(
    platform: PlatformClient,
) -> None:
    # Given a room_started event for one of the demo tenant's rooms
    now = int(datetime.now(UTC).timestamp())
    room = f"atd_{platform.demo_tenant_id}_{uuid.uuid4().hex[:10]}"
    event = {
        "event": "room_started",
        "id": f"EV_{uuid.uuid4().hex[:12]}",
        "createdAt": str(now),
        "room": {"sid": f"RM_{uuid.uuid4().hex[:12]}", "name": room, "creationTime": str(now)},
    }
    # When it is signed with the key/secret the platform printed, and with a wrong secret
    accepted = platform.livekit_webhook(event)
    forged = platform.livekit_webhook(event, secret="not-the-secret-not-the-secret-0000")
    # Then only the first gets in
    assert 200 <= accepted.status_code < 300, accepted.text
    assert forged.status_code == 401, forged.text
