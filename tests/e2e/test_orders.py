"""Orders reach the restaurant, on the local platform over HTTP only.

A scripted call ends with its order in the admin API (same lines, quantities and total),
its call record links the order and serves the transcript, a local receiver registered as
the tenant's endpoint gets Standard-Webhooks-signed events, and the customer's and the
kitchen's WhatsApp messages reach the local fake gateway. Then: duplicates out of order,
a race on one version, the error bodies, and a receiver that is down.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook

from tests.e2e.conftest import PlatformClient
from tests.e2e.test_call import _call

pytestmark = pytest.mark.e2e


class Receiver:
    """A restaurant's system: records what it is sent; answers ``statuses`` in turn
    (then 200)."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                with outer.lock:
                    status = outer.statuses.pop(0) if outer.statuses else 200
                    if status == 200:
                        outer.received.append(
                            ({k.lower(): v for k, v in self.headers.items()}, body)
                        )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def events(self, secret: str) -> list[dict[str, Any]]:
        """Every delivery, verified with the standardwebhooks library."""
        with self.lock:
            return [Webhook(secret).verify(body, headers) for headers, body in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()


def _register(platform: PlatformClient, url: str) -> dict[str, Any]:
    answer = platform.http.post(
        f"/v1/tenants/{platform.demo_tenant_id}/order-webhooks",
        headers=platform.admin,
        json={"url": url, "events": ["order.placed", "order.status_changed"]},
    )
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def _unregister(platform: PlatformClient, endpoint_id: str) -> None:
    platform.http.delete(
        f"/v1/tenants/{platform.demo_tenant_id}/order-webhooks/{endpoint_id}",
        headers=platform.admin,
    )


def _status(
    platform: PlatformClient, order_id: str, status: str, *, version: int | None = None, **body: Any
) -> Any:
    headers = dict(platform.admin)
    if version is not None:
        headers["If-Match"] = f'"{version}"'
    return platform.http.post(
        f"/v1/tenants/{platform.demo_tenant_id}/orders/{order_id}/status",
        headers=headers,
        json={"status": status, **body},
    )


def _order(platform: PlatformClient, order_id: str) -> dict[str, Any] | None:
    answer = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}/orders/{order_id}", headers=platform.admin
    )
    return dict(answer.json()) if answer.status_code == 200 else None


def test_a_call_ends_with_the_order_in_the_kitchen_and_everyone_told(
    platform: PlatformClient, tmp_path: Path, receiver: Receiver
):
    tenant = platform.demo_tenant_id
    # Given the restaurant's system registered as the tenant's endpoint
    endpoint = _register(platform, receiver.url)
    platform.http.delete("/_local/whatsapp/messages", headers=platform.admin)
    try:
        # When a scripted caller orders (pickup)
        outcome = _call(platform, tmp_path)
        order_id, call_id = outcome["order"]["order_id"], outcome["call_id"]

        # Then the order is listed with exactly the call's lines, quantities and total
        def listed() -> dict[str, Any] | None:
            answer = platform.http.get(f"/v1/tenants/{tenant}/orders", headers=platform.admin)
            items = answer.json().get("items", []) if answer.status_code == 200 else []
            return next((o for o in items if o["order_id"] == order_id), None)

        order = platform.wait_for(listed, timeout=60)
        assert [(ln["item_id"], ln["option_id"], ln["quantity"]) for ln in order["lines"]] == [
            (ln["item_id"], ln["option_id"], ln["quantity"]) for ln in outcome["cart"]
        ]
        assert order["total_cents"] == outcome["total_cents"]
        assert (order["status"], order["channel"], order["call_id"]) == (
            "received",
            "voice",
            call_id,
        )
        number = order["order_number"]
        by_number = platform.http.get(
            f"/v1/tenants/{tenant}/orders/by-number/{number}", headers=platform.admin
        )
        assert by_number.json()["order_id"] == order_id

        # And the call's record links the order and returns the transcript
        def record() -> dict[str, Any] | None:
            answer = platform.http.get(
                f"/v1/tenants/{tenant}/call-records/{call_id}", headers=platform.admin
            )
            data = answer.json() if answer.status_code == 200 else {}
            return data if data.get("order_id") and data.get("transcript") else None

        call = platform.wait_for(record, timeout=60)
        assert (call["order_id"], call["order_number"], call["outcome"]) == (
            order_id,
            number,
            "ordered",
        )
        assert call["transcript"]["order"]["order_id"] == order_id
        assert call["transcript_url"].startswith("http")

        # (the list is paged by room name, the session's other tests made calls too, and it
        # reads billing's call sessions, written asynchronously from LiveKit's webhooks:
        # wait for this one rather than race the billing pump)
        def listed_call() -> bool:
            listed_orders: list[str | None] = []
            cursor: str | None = None
            while True:
                listing = platform.http.get(
                    f"/v1/tenants/{tenant}/call-records",
                    params={"limit": 100, **({"cursor": cursor} if cursor else {})},
                    headers=platform.admin,
                )
                assert listing.status_code == 200, listing.text
                listed_orders += [c["order_id"] for c in listing.json()["items"]]
                cursor = listing.json()["next_cursor"]
                if not cursor:
                    return order_id in listed_orders

        platform.wait_for(listed_call, timeout=60)

        # And the CLI shows the kitchen's number, the call with its transcript
        board = _cli(platform, "orders", "list", tenant)
        assert f"{number}" in board
        assert "received" in board
        shown = _cli(platform, "orders", "show", tenant, f"#{number}")
        assert f"order #{number} (received, version 1)" in shown
        transcript = _cli(platform, "calls", "show", tenant, call_id)
        assert "agent:" in transcript

        # When the kitchen accepts it (from the CLI), has it ready and completes it
        accepted = _cli(
            platform, "orders", "status", tenant, str(number), "accepted", "--if-match", "1"
        )
        assert f"order #{number} (accepted, version 2)" in accepted
        for status in ("ready", "completed"):
            assert _status(platform, order_id, status).status_code == 200

        # Then the receiver got each event, signed, in order
        def signed() -> list[dict[str, Any]] | None:
            events = [
                e
                for e in receiver.events(endpoint["secret"])
                if e["data"]["order"]["order_id"] == order_id
            ]
            return events if len(events) == 4 else None

        events = platform.wait_for(signed, timeout=60)
        assert [(e["type"], e["data"]["status"]) for e in events] == [
            ("order.placed", "received"),
            ("order.status_changed", "accepted"),
            ("order.status_changed", "ready"),
            ("order.status_changed", "completed"),
        ]

        # And the kitchen and the customer got their WhatsApp messages on the local fake
        def texts() -> list[dict[str, Any]] | None:
            answer = platform.http.get("/_local/whatsapp/messages", headers=platform.admin)
            messages = answer.json().get("messages", [])
            return messages if len(messages) >= 4 else None

        messages = platform.wait_for(texts, timeout=60)
        to_kitchen = [m["text"] for m in messages if m["to"].endswith("5511930000001")]
        to_customer = [m["text"] for m in messages if m["to"].endswith("5511987654321")]
        assert len(to_kitchen) == 1
        assert f"Novo pedido #{number}" in to_kitchen[0]
        assert len(to_customer) == 3
        assert f"Pedido #{number} recebido" in to_customer[0]
        assert "aceito" in to_customer[1]
        assert "pronto para retirada" in to_customer[2]
        detail = _order(platform, order_id)
        assert detail is not None
        assert {n["status"] for n in detail["notifications"]} == {"delivered"}
    finally:
        _unregister(platform, endpoint["endpoint_id"])


def _cli(platform: PlatformClient, *argv: str) -> str:
    """Run ``atende ...`` as a person would (its own process, over HTTP)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ATENDE_"))}
    env["COLUMNS"] = "200"
    answer = subprocess.run(
        [
            sys.executable,
            "-m",
            "atende_local.cli",
            *argv,
            "--url",
            platform.base_url,
            f"--token={platform.token}",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert answer.returncode == 0, answer.stderr[-2000:]
    return answer.stdout


def _bus(platform: PlatformClient) -> Any:
    return boto3.client(
        "events",
        endpoint_url=platform.state["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="atende-local",
        aws_secret_access_key="atende-local",
    )


def _placed(platform: PlatformClient, order_id: str) -> dict[str, Any]:
    detail = {
        "event_id": order_id,
        "tenant_id": platform.demo_tenant_id,
        "correlation_id": f"e2e-{order_id}",
        "occurred_at": datetime.now(UTC).isoformat(),
        "order_id": order_id,
        "lines": [
            {
                "item_id": "pizza-calabresa",
                "option_id": "grande",
                "name": "Pizza Calabresa (grande)",
                "quantity": 1,
                "unit_price_cents": 4990,
                "line_total_cents": 4990,
            }
        ],
        "total_cents": 4990,
        "fulfilment": "delivery",
        "delivery_address": "Rua das Flores, 10",
    }
    return {
        "Source": "atende",
        "DetailType": "OrderPlaced",
        "Detail": json.dumps(detail),
        "EventBusName": "atende-local-bus",
    }


def test_duplicates_races_and_bad_input(platform: PlatformClient):
    tenant = platform.demo_tenant_id
    order_id = f"ord-e2e-{uuid.uuid4().hex[:8]}"
    bus = _bus(platform)
    entry = _placed(platform, order_id)

    # Given the same OrderPlaced delivered five times, interleaved with its status changes
    bus.put_events(Entries=[entry])
    platform.wait_for(lambda: _order(platform, order_id), timeout=60)
    bus.put_events(Entries=[entry, entry])
    assert _status(platform, order_id, "accepted").status_code == 200
    bus.put_events(Entries=[entry])
    assert _status(platform, order_id, "preparing").status_code == 200
    bus.put_events(Entries=[entry])

    def settled() -> bool:
        queues = platform.queues()
        return all(queues[q]["visible"] == 0 and queues[q]["in_flight"] == 0 for q in ("kitchen",))

    platform.wait_for(settled, timeout=60)
    # Then there is one order, where the status changes took it
    answer = platform.http.get(f"/v1/tenants/{tenant}/orders", headers=platform.admin)
    mine = [o for o in answer.json()["items"] if o["order_id"] == order_id]
    assert [(o["status"], o["version"]) for o in mine] == [("preparing", 3)]

    # When two clerks change it at once from the same version
    results: list[int] = []
    barrier = threading.Barrier(2)

    def clerk(target: str) -> None:
        barrier.wait()
        reason = "customer called back" if target == "cancelled" else None
        results.append(_status(platform, order_id, target, version=3, reason=reason).status_code)

    threads = [threading.Thread(target=clerk, args=(t,)) for t in ("ready", "cancelled")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Then one wins and one gets 412
    assert sorted(results) == [200, 412]

    # And bad input answers the platform's error body
    for answer, status, code in (
        (_status(platform, "no-such-order", "accepted"), 404, "not_found"),
        (_status(platform, order_id, "received"), 409, "conflict"),
        (_status(platform, order_id, "completed", version=1), 412, "precondition_failed"),
        (
            platform.http.post(
                f"/v1/tenants/{tenant}/order-webhooks",
                headers=platform.admin,
                json={"url": "https://169.254.169.254/latest/meta-data"},
            ),
            422,
            "validation_failed",
        ),
        (
            platform.http.post(
                f"/v1/tenants/{tenant}/order-webhooks",
                headers=platform.admin,
                json={"url": "http://10.0.0.8/hooks"},
            ),
            422,
            "validation_failed",
        ),
    ):
        assert answer.status_code == status, answer.text
        body = answer.json()
        assert body["error"]["code"] == code
        assert body["correlation_id"]
    # And the 409 names the moves the order (whichever clerk won) still allows
    conflict = _status(platform, order_id, "received").json()
    current = _order(platform, order_id)
    assert current is not None
    assert conflict["error"]["details"] == {
        "status": current["status"],
        "allowed": current["allowed_transitions"],
    }


def test_a_receiver_down_is_retried_then_dead_lettered_and_replayed_once(
    platform: PlatformClient, receiver: Receiver
):
    tenant = platform.demo_tenant_id
    endpoint = _register(platform, receiver.url)
    bus = _bus(platform)
    try:
        # Given the receiver answers 503 twice before it comes back
        receiver.statuses = [503, 503]
        first = f"ord-e2e-{uuid.uuid4().hex[:8]}"
        bus.put_events(Entries=[_placed(platform, first)])

        # Then the order is recorded at once and the event arrives once, after retries
        assert platform.wait_for(lambda: _order(platform, first), timeout=60)

        def delivered(order_id: str) -> list[dict[str, Any]] | None:
            events = [
                e
                for e in receiver.events(endpoint["secret"])
                if e["data"]["order"]["order_id"] == order_id
            ]
            return events or None

        assert len(platform.wait_for(lambda: delivered(first), timeout=60)) == 1
        detail = _order(platform, first)
        assert detail is not None
        webhook = next(n for n in detail["notifications"] if n["kind"] == "webhook")
        assert (webhook["status"], webhook["attempts"]) == ("delivered", 3)

        # Given the receiver answers 410 Gone (it will never take it: dead-lettered at once)
        receiver.statuses = [410]
        second = f"ord-e2e-{uuid.uuid4().hex[:8]}"
        bus.put_events(Entries=[_placed(platform, second)])

        def dead() -> dict[str, Any] | None:
            answer = platform.http.get(
                f"/v1/tenants/{tenant}/notifications",
                headers=platform.admin,
                params={"failed": "true"},
            )
            items = answer.json().get("items", [])
            return next((d for d in items if d["order_id"] == second), None)

        letter = platform.wait_for(dead, timeout=60)
        assert letter["attempt_log"][0]["status_code"] == 410
        # When it is replayed (twice: the second is refused)
        path = f"/v1/tenants/{tenant}/notifications/{letter['delivery_id']}/replay"
        assert platform.http.post(path, headers=platform.admin).status_code == 200
        again = platform.http.post(path, headers=platform.admin)
        assert again.status_code == 409
        # Then it is delivered once
        assert len(platform.wait_for(lambda: delivered(second), timeout=60)) == 1
        single = platform.http.get(
            f"/v1/tenants/{tenant}/notifications/{letter['delivery_id']}", headers=platform.admin
        ).json()
        assert (single["status"], single["replays"]) == ("delivered", 1)
    finally:
        _unregister(platform, endpoint["endpoint_id"])


def test_a_monthly_statement_downloads_from_the_cli(platform: PlatformClient, tmp_path: Path):
    # Given last month's statements written by the monthly job
    tenant = platform.demo_tenant_id
    fired = platform.http.post(
        "/_local/trigger/billing-jobs",
        headers=platform.admin,
        json={"schedule": "monthly-statements"},
    )
    assert fired.status_code == 200, fired.text
    listing = platform.http.get(f"/v1/tenants/{tenant}/statements", headers=platform.admin)
    period = listing.json()["items"][0]["period"]
    # When the admin downloads it
    target = tmp_path / "statement.csv"
    shown = _cli(platform, "statements", "get", tenant, period, "--output", str(target))
    # Then the CSV arrived through the presigned link
    assert f"statement {period} saved" in shown
    assert target.read_text().startswith("seq,posted_at,kind")
    missing = platform.http.get(f"/v1/tenants/{tenant}/statements/1999-01", headers=platform.admin)
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
