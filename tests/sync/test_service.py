"""The composition root's reuse of provider clients, and the worker's connector choice."""

from __future__ import annotations

import dataclasses

import httpx

from functions.sync.handlers import deps as service
from functions.sync.models.runs import SyncJob, new_run_id


def test_provider_http_clients_are_reused_until_the_transport_changes():
    service.use_http_transport(None)
    try:
        first = service._http("https://api.example.test", 10.0)
        assert service._http("https://api.example.test", 10.0) is first
        assert service._http("https://api.example.test", 5.0) is not first
        assert service._http("https://other.example.test", 10.0) is not first

        service.use_http_transport(httpx.MockTransport(lambda request: httpx.Response(200)))
        assert service._http("https://api.example.test", 10.0) is not first
    finally:
        service.use_http_transport(None)


def test_a_shared_provider_client_keeps_no_cookies():
    def set_cookie(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"set-cookie": "session=tenant-a; Path=/"})

    service.use_http_transport(httpx.MockTransport(set_cookie))
    try:
        http = service._http("https://api.example.test", 10.0)
        http.get("/first")
        assert http.get("/second").request.headers.get("cookie") is None
    finally:
        service.use_http_transport(None)


def test_a_scheduled_run_builds_its_connector_once(harness):
    h = harness
    connector = h.connector()
    asked: list[str] = []

    def connector_for(tenant_id: str, source: str):
        asked.append(source)
        return connector

    worker = dataclasses.replace(h.worker(), connector_for=connector_for)
    run_id = new_run_id("full", h.clock.now())
    job = SyncJob(tenant_id=h.tenant_id, mode="full", run_id=run_id).model_dump_json()

    assert worker.handle(job) == "done"
    assert asked == [""]
    run = h.runs.get_run(h.tenant_id, run_id)
    assert run is not None
    assert run.source == "bling"
