"""The local call, scripted, against the local platform: order in the admin API, charge on
the ledger.

``atende call`` runs in its own process (as a person would run it) and talks to the
platform over HTTP and the platform's moto endpoint only. The demo pizzaria opens
18:00-23:30 São Paulo time, so the call is placed at 20:00 on a Saturday (``--at``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import PlatformClient

pytestmark = pytest.mark.e2e

SCRIPT = """\
oi, quero duas pizzas de calabresa grandes e uma coca
na verdade, sem coca
só isso
vou buscar no balcão
pix
meu nome é Ana
sim
"""


def _call(platform: PlatformClient, tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "caller.txt"
    script.write_text(SCRIPT, encoding="utf-8")
    state_file = tmp_path / "local.json"
    state_file.write_text(json.dumps(platform.state))
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ATENDE_", "LIVEKIT_", "OPENAI_", "DEEPGRAM_"))
    }
    env["POWERTOOLS_LOG_LEVEL"] = "ERROR"
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "atende_local.cli",
            "call",
            "--script",
            str(script),
            "--json",
            "--url",
            platform.base_url,
            f"--token={platform.token}",
            "--state-file",
            str(state_file),
            "--at",
            "2026-11-21T20:00:00-03:00",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    start = answer.stdout.index("{")
    outcome: dict[str, Any] = json.loads(answer.stdout[start:])
    return outcome


def test_scripted_call_places_an_order_and_is_charged(
    platform: PlatformClient, tmp_path: Path
) -> None:
    # Given the demo tenant, when a scripted caller orders two large calabresa pizzas
    outcome = _call(platform, tmp_path)

    # Then the agent confirmed the order with the menu's total
    assert outcome["outcome"] == "ordered"
    assert outcome["total_cents"] == 2 * 4_990
    assert outcome["order"]["customer_name"] == "Ana"
    assert outcome["order"]["payment"]["method"] == "pix"
    assert outcome["order"]["number"].isdigit()  # the kitchen's number, said to the caller
    assert [(ln["item_id"], ln["option_id"], ln["quantity"]) for ln in outcome["cart"]] == [
        ("pizza-calabresa", "grande", 2)
    ]
    assert outcome["events_published"] == ["OrderPlaced", "CallUsageReported"]
    assert [w["status"] for w in outcome["webhooks"]] == [200, 200, 200, 200]

    tenant = platform.demo_tenant_id
    order_id = outcome["order"]["order_id"]
    call_id = outcome["call_id"]

    # And the order reached the platform (visible in the admin API)
    def order_visible() -> dict[str, Any] | None:
        answer = platform.http.get(
            f"/v1/tenants/{tenant}/orders/{order_id}/sync", headers=platform.admin
        )
        return answer.json() if answer.status_code == 200 else None

    assert platform.wait_for(order_visible, timeout=60)

    # And billing rated the call and charged it on the ledger
    def charge() -> dict[str, Any] | None:
        answer = platform.http.get(f"/v1/tenants/{tenant}/ledger", headers=platform.admin)
        if answer.status_code != 200:
            return None
        for entry in answer.json().get("items", []):
            if (entry.get("reference") or {}).get("call_id") == call_id and entry[
                "amount_cents"
            ] < 0:
                return dict(entry)
        return None

    entry = platform.wait_for(charge, timeout=60)
    assert entry["kind"] == "call_charge"

    # And the transcript is in the platform's artifacts bucket (its moto endpoint)
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=platform.state["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="atende-local",
        aws_secret_access_key="atende-local",
    )
    listing = s3.list_objects_v2(Bucket="atende-local-artifacts", Prefix=f"transcripts/{tenant}/")
    keys = [o["Key"] for o in listing.get("Contents", []) if o["Key"].endswith(f"/{call_id}.json")]
    assert len(keys) == 1
    stored = json.loads(s3.get_object(Bucket="atende-local-artifacts", Key=keys[0])["Body"].read())
    assert stored["order"]["order_id"] == order_id
    assert stored["turns"][0]["role"] == "agent"
