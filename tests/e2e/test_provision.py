"""Provisioning through the local gateway: onboard, assign a number, see it provisioned."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from typing import Any
from urllib.parse import quote

import pytest

from tests.e2e.conftest import PlatformClient

pytestmark = pytest.mark.e2e


def _numbers(platform: PlatformClient, tenant_id: str) -> list[dict[str, Any]]:
    answer = platform.http.get(f"/v1/tenants/{tenant_id}/phone-numbers", headers=platform.admin)
    answer.raise_for_status()
    return list(answer.json()["items"])


def test_onboard_assign_and_see_the_number_provisioned(platform: PlatformClient) -> None:
    tenant_id = f"e2e-{uuid.uuid4().hex[:8]}"
    number = "+5511" + str(uuid.uuid4().int)[:8]
    # Given a new tenant with its agent and menu
    created = platform.http.post(
        "/v1/tenants",
        json={"tenant_id": tenant_id, "name": "E2E Pizzaria"},
        headers=platform.admin,
    )
    assert created.status_code == 201, created.text
    agent = platform.http.put(
        f"/v1/tenants/{tenant_id}/agent",
        json={"greeting": "Olá!", "max_call_seconds": 600},
        headers=platform.admin,
    )
    assert agent.status_code == 200, agent.text
    menu = platform.http.put(
        f"/v1/tenants/{tenant_id}/menu",
        json={"items": [{"item_id": "marg", "name": "Margherita", "price_cents": 4990}]},
        headers=platform.admin,
    )
    assert menu.status_code == 200, menu.text
    # When a number is assigned
    assigned = platform.http.post(
        f"/v1/tenants/{tenant_id}/phone-numbers", json={"number": number}, headers=platform.admin
    )
    assert assigned.status_code == 202, assigned.text
    assert assigned.json()["status"] == "pending"
    # Then the queue pump runs the worker and the number becomes active with LiveKit ids
    phone = platform.wait_for(
        lambda: next((p for p in _numbers(platform, tenant_id) if p["status"] == "active"), None),
        timeout=60,
    )
    assert phone["number"] == number
    assert phone["trunk_id"].startswith("ST_")
    assert phone["dispatch_rule_id"].startswith("SDR_")
    # And another tenant cannot take it
    other = platform.http.post(
        f"/v1/tenants/{platform.demo_tenant_id}/phone-numbers",
        json={"number": number},
        headers=platform.admin,
    )
    assert other.status_code == 409, other.text
    # And a test-call token can be minted for the browser
    token = platform.http.post(f"/v1/tenants/{tenant_id}/test-call-token", headers=platform.admin)
    assert token.status_code == 200, token.text
    assert token.json()["room_name"].startswith(f"atd_{tenant_id}_test-")
    # When the tenant is suspended, the event reaches the worker and the number follows
    # (dispatch kept: the agent answers in suspended mode); resume brings it back
    suspended = platform.http.post(f"/v1/tenants/{tenant_id}/suspend", headers=platform.admin)
    assert suspended.status_code == 200, suspended.text
    platform.wait_for(
        lambda: [p["status"] for p in _numbers(platform, tenant_id)] == ["suspended"] or None,
        timeout=60,
    )
    resumed = platform.http.post(f"/v1/tenants/{tenant_id}/resume", headers=platform.admin)
    assert resumed.status_code == 200, resumed.text
    platform.wait_for(
        lambda: [p["status"] for p in _numbers(platform, tenant_id)] == ["active"] or None,
        timeout=60,
    )
    # When the number is released, it disappears
    released = platform.http.delete(
        f"/v1/tenants/{tenant_id}/phone-numbers/{quote(number, safe='')}", headers=platform.admin
    )
    assert released.status_code == 202, released.text
    platform.wait_for(lambda: _numbers(platform, tenant_id) == [] or None, timeout=60)


def test_the_cli_wizard_onboards_a_tenant_end_to_end(platform, tmp_path):
    # Given a menu file and a number nobody owns
    menu = tmp_path / "menu.json"
    menu.write_text(
        json.dumps({"items": [{"item_id": "esfiha", "name": "Esfiha", "price_cents": 590}]})
    )
    env = {**os.environ, "ATENDE_URL": platform.base_url, "ATENDE_ADMIN_TOKEN": platform.token}
    # When the wizard runs
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "atende_local.cli",
            "tenants",
            "onboard",
            "esfiharia-wiz",
            "--name",
            "Esfiharia",
            "--number",
            "+55 11 3000-0777",
            "--menu",
            str(menu),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then every step succeeded and the number is provisioned on (fake) LiveKit
    assert answer.returncode == 0, answer.stderr
    report = json.loads(answer.stdout)
    assert [s["outcome"] for s in report["steps"]][:5] == [
        "created",
        "skipped",
        "written",
        "active",
        "issued",
    ]
    assert report["phone"]["number"] == "+551130000777"
    assert report["phone"]["trunk_id"].startswith("ST_")
    # And the fresh tenant, with no balance yet, is warned about before its first call
    assert "no prepaid balance" in report["warning"]
