"""The gateway over real HTTP: bytes, headers, auth, errors and the local endpoints."""

from __future__ import annotations

import base64
import http.client
import json

import httpx

from atende_local.gateway import LocalHttpServer
from tests.local.conftest import TOKEN, Served


def test_a_binary_body_reaches_the_handler_byte_for_byte(served: Served) -> None:
    # Given a body that is not UTF-8
    body = bytes(range(256))
    # When it is posted through the gateway
    with served.client() as http:
        answer = http.post(
            "/echo/demo-pizzaria?x=1",
            content=body,
            headers={"Content-Type": "application/octet-stream"},
        )
    # Then the handler got it base64-encoded, intact, with the path parameters
    event = answer.json()["event"]
    assert answer.status_code == 200
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == body
    assert event["pathParameters"] == {"tenant_id": "demo-pizzaria"}
    assert event["queryStringParameters"] == {"x": "1"}
    assert answer.json()["function_name"].endswith("webhooks-echo")


def test_header_case_and_repeated_headers_are_preserved(served: Served) -> None:
    # Given a raw request with a mixed-case signature header sent twice
    host, port = served.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("POST", "/echo/demo-pizzaria")
    connection.putheader("X-Bling-Signature-256", "sha256=first")
    connection.putheader("X-Bling-Signature-256", "sha256=second")
    connection.putheader("Content-Type", "application/json")
    connection.putheader("Content-Length", "2")
    connection.endheaders(b"{}")
    event = json.loads(connection.getresponse().read())["event"]
    connection.close()
    # Then both values are in multiValueHeaders, the last one in headers, case as sent
    assert event["multiValueHeaders"]["X-Bling-Signature-256"] == ["sha256=first", "sha256=second"]
    assert event["headers"]["X-Bling-Signature-256"] == "sha256=second"
    assert event["body"] == "{}"


def test_admin_routes_need_the_bearer_token(served: Served) -> None:
    with served.client() as http:
        missing = http.get("/v1/tenants")
        wrong = http.get("/v1/tenants", headers={"Authorization": "Bearer nope"})
        right = http.get("/v1/tenants", headers={"Authorization": f"Bearer {TOKEN}"})
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert right.json()["items"][0]["tenant_id"] == "demo-pizzaria"


def test_unknown_route_is_404_and_wrong_method_405(served: Served) -> None:
    with served.client() as http:
        unknown = http.get("/nothing/here")
        wrong = http.delete("/echo/demo-pizzaria")
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405
    assert wrong.headers["Allow"] == "POST"


def test_a_function_that_does_not_import_answers_502_naming_it(served: Served) -> None:
    with served.client() as http:
        answer = http.post("/ingest/demo-pizzaria/batches", json={})
    assert answer.status_code == 502
    assert answer.json()["error"]["function"] == "sync-ingest"
    assert "does_not_exist_yet" in answer.json()["error"]["message"]
    assert served.registry.states()["sync-ingest"].importable is False


def test_a_handler_that_raises_answers_502(served: Served) -> None:
    def boom(event: object, context: object) -> object:
        raise RuntimeError("kaput")

    served.registry.override("webhooks-echo", boom)
    with served.client() as http:
        answer = http.post("/echo/demo-pizzaria", json={})
    assert answer.status_code == 502
    assert answer.json()["error"]["code"] == "function_error"


def test_local_trigger_is_admin_only_and_fires_the_schedule(served: Served) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with served.client() as http:
        anonymous = http.post("/_local/trigger/sync-scheduler")
        fired = http.post("/_local/trigger/sync-scheduler", headers=auth, json={"schedule": "s1"})
        unknown = http.post("/_local/trigger/webhooks-echo", headers=auth)
    assert anonymous.status_code == 401
    assert fired.status_code == 200
    assert served.triggered == [("sync-scheduler", "s1")]
    assert unknown.status_code == 404


def test_docs_are_served_without_a_cdn(served: Served) -> None:
    with served.client() as http:
        page = http.get("/docs")
        script = http.get("/docs/swagger-ui-bundle.min.js")
        css = http.get("/docs/swagger-ui.min.css")
        document = http.get("/openapi.json")
    assert page.status_code == 200
    assert "/docs/swagger-ui-bundle.min.js" in page.text
    assert "https://" not in page.text
    assert script.status_code == 200
    assert len(script.content) > 100_000
    assert css.headers["Content-Type"] == "text/css"
    assert document.status_code == 200
    assert document.json()["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"


def test_a_bound_server_answers_503_until_its_gateway_is_attached_and_stops_cleanly() -> None:
    # Given a server bound before the platform behind it is ready
    server = LocalHttpServer(("127.0.0.1", 0))
    server.start_in_thread()
    try:
        answer = httpx.get(f"http://127.0.0.1:{server.port}/health", timeout=5)
    finally:
        server.stop()
    assert answer.status_code == 503
    # And a server that never served can be stopped without hanging
    LocalHttpServer(("127.0.0.1", 0)).stop()


def test_admin_events_carry_an_iam_like_caller_and_public_ones_none(served: Served) -> None:
    seen: list[dict[str, object]] = []

    def record(event: dict[str, object], context: object) -> dict[str, object]:
        seen.append(event)
        return {"statusCode": 200, "body": "{}"}

    served.registry.override("provision-admin-api", record)
    served.registry.override("webhooks-echo", record)
    with served.client() as http:
        http.get("/v1/tenants", headers={"Authorization": f"Bearer {TOKEN}"})
        http.post("/echo/demo-pizzaria", json={})
    admin, public = (e["requestContext"]["identity"] for e in seen)  # type: ignore[index]
    assert admin["userArn"] == "arn:aws:iam::000000000000:user/atende-local-admin"
    assert admin["caller"]
    assert public["userArn"] is None
    assert public["sourceIp"] == "127.0.0.1"
