"""What a call leaves behind, the tenant cache, business hours and latency metrics."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime, time
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources
from atende_shared.aws import client
from atende_shared.dal.tenants import tenant_store
from atende_shared.events import CallUsageReported, CatalogChanged, OrderPlaced, TenantSuspended
from atende_shared.messaging import EventBridgePublisher
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import (
    AfterHoursBehaviour,
    AgentConfig,
    OpeningWindow,
    Tenant,
    TenantStatus,
    Weekday,
)
from tests.voice.conftest import (
    FakePublisher,
    FakeTranscripts,
    FakeTransferer,
    known_customer,
    make_state,
    menu_pt,
)
from tests.voice.helpers import run, started, turn
from tests.voice.scripted_llm import ScriptedLLM, Step, call, say
from voice_fargate.admission import check_admission, is_open
from voice_fargate.records import finalise_call
from voice_fargate.services import S3TranscriptStore, transcript_key
from voice_fargate.state import CallServices
from voice_fargate.telemetry import EmfWriter, attach_latency_metrics
from voice_fargate.tenant_cache import TenantCache


def test_transcript_and_usage_are_written_at_session_end(aws: LocalResources) -> None:
    # Given a call whose services are the real S3 store and EventBridge publisher (moto)
    bucket = aws.env["ATENDE_ARTIFACTS_BUCKET"]
    state = make_state(
        services=CallServices(
            publisher=EventBridgePublisher(aws.bus_name),
            transcripts=S3TranscriptStore(bucket),
            transferer=FakeTransferer(),
        )
    )
    known_customer(state)
    state.fulfilment = "pickup"
    model = ScriptedLLM(
        [
            Step(
                calls=[("add_item", {"item_id": "coca-cola-2l", "quantity": 2})],
                prompt_tokens=100,
                completion_tokens=10,
            ),
            say("Duas cocas."),
            call("confirm_order"),
            say("Confirmado."),
        ]
    )

    async def body() -> dict[str, Any]:
        async with started(state, model) as session:
            await turn(session, "duas cocas")
            await turn(session, "confirma")
            return await finalise_call(session, state)

    # When the session ends
    transcript = run(body())

    # Then the transcript is in the artifacts bucket under transcripts/<tenant>/<yyyy>/<mm>/
    key = transcript_key("pizzaria-teste", "SCL_test_call_1", state.started_at)
    assert key.startswith(f"transcripts/pizzaria-teste/{state.started_at:%Y/%m}/")
    stored = json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())
    assert stored == json.loads(json.dumps(transcript, default=str))
    assert stored["outcome"] == "ordered"
    assert stored["order"]["total_cents"] == 2_800
    assert [t["role"] for t in stored["turns"]] == ["agent", "caller", "agent", "caller", "agent"]
    assert all(t["at"].endswith("+00:00") for t in stored["turns"])
    assert [c["name"] for c in stored["tool_calls"]] == ["add_item", "confirm_order"]
    assert stored["tool_calls"][0]["error"] is False
    # And the usage report sums the LLM tokens of every request
    assert stored["usage"]["llm_prompt_tokens"] == 100 + 3 * 40
    assert stored["usage"]["models"] == {"llm": "scripted/scripted-1"}


def test_usage_event_is_stable_per_call() -> None:
    publisher, transcripts = FakePublisher(), FakeTranscripts()
    state = make_state(
        services=CallServices(
            publisher=publisher, transcripts=transcripts, transferer=FakeTransferer()
        )
    )

    async def body() -> None:
        async with started(state, ScriptedLLM([say("oi")])) as session:
            await turn(session, "alô")
            await finalise_call(session, state)
            await finalise_call(session, state)  # a retried shutdown callback

    run(body())
    (usage,) = publisher.of_type("CallUsageReported")
    assert isinstance(usage, CallUsageReported)
    assert usage.event_id == "usage-SCL_test_call_1"  # stable: consumers dedupe on it
    assert (usage.outcome, usage.summary) == ("abandoned", "abandoned: no items")
    assert state.outcome == "abandoned"  # hung up without ordering
    (body_,) = transcripts.bodies.values()
    assert body_["summary"] == "abandoned: no items"
    assert not any(isinstance(e, OrderPlaced) for e in publisher.events)


def test_tenant_cache_reads_through_and_invalidates_on_catalog_changed(
    aws: LocalResources,
) -> None:
    # Given a tenant in the store and a cache with a long TTL on a controllable clock
    table = aws.env["ATENDE_MAIN_TABLE"]
    store = tenant_store(table)
    store.put_tenant(Tenant(tenant_id="pizzaria-teste", name="Pizzaria Teste"))
    store.put_menu("pizzaria-teste", menu_pt())
    now = [0.0]
    cache = TenantCache(lambda: store, ttl_seconds=30, clock=lambda: now[0])

    first = cache.get("pizzaria-teste")
    # When the menu changes, the cached copy is served until the TTL or an event says so
    store.put_menu("pizzaria-teste", Menu(items=menu_pt().items[:1]))
    assert cache.get("pizzaria-teste") is first
    assert cache.loads == 1
    changed = CatalogChanged(
        tenant_id="pizzaria-teste",
        correlation_id="c1",
        source="manual",
        items_upserted=0,
        items_removed=6,
        menu_version="v2",
    )
    assert cache.on_event(changed)
    # Then the next call reads the new menu
    assert len(cache.get("pizzaria-teste").menu.items) == 1
    # And expiry alone also reloads (a suspension reaches calls within the TTL)
    store.put_tenant(
        Tenant(tenant_id="pizzaria-teste", name="Pizzaria Teste", status=TenantStatus.SUSPENDED)
    )
    now[0] = 31.0
    assert cache.get("pizzaria-teste").tenant.status is TenantStatus.SUSPENDED
    assert cache.loads == 3
    suspended = TenantSuspended(tenant_id="pizzaria-teste", correlation_id="c", reason="admin")
    assert cache.on_event(suspended)


_SAT_OPEN = OpeningWindow(day=Weekday.SAT, opens=time(18), closes=time(23, 30))


@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 11, 21, 23, 0, tzinfo=UTC), True),  # Sat 20:00 in São Paulo
        (datetime(2026, 11, 21, 20, 0, tzinfo=UTC), False),  # Sat 17:00
        (datetime(2026, 11, 22, 2, 29, tzinfo=UTC), True),  # Sat 23:29
        (datetime(2026, 11, 22, 2, 30, tzinfo=UTC), False),  # Sat 23:30 (closes)
        (datetime(2026, 11, 22, 23, 0, tzinfo=UTC), False),  # Sun 20:00: no window
    ],
)
def test_business_hours_in_the_tenants_time_zone(utc: datetime, expected: bool) -> None:
    tenant = Tenant(tenant_id="pizzaria-teste", name="P", opening_hours=[_SAT_OPEN])
    assert is_open(tenant, utc) is expected


def test_admission_refuses_politely_by_status_and_hours() -> None:
    open_tenant = Tenant(tenant_id="pizzaria-teste", name="Pizzaria", opening_hours=[_SAT_OPEN])
    closed_at = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    config = AgentConfig(tenant_id="pizzaria-teste")
    refusal = check_admission(open_tenant, config, closed_at)
    assert refusal is not None
    assert refusal.outcome == "refused_after_hours"
    assert "Hoje abrimos das 18:00 às 23:30" in refusal.message
    anyway = config.model_copy(update={"after_hours": AfterHoursBehaviour.TAKE_ORDERS_ANYWAY})
    assert check_admission(open_tenant, anyway, closed_at) is None
    message = config.model_copy(update={"after_hours": AfterHoursBehaviour.TAKE_MESSAGE})
    note = check_admission(open_tenant, message, closed_at)
    assert note is not None
    assert "retornaremos" in note.message
    closed = open_tenant.model_copy(update={"status": TenantStatus.CLOSED})
    english = config.model_copy(update={"language": "en-US"})
    shut = check_admission(closed, english, datetime(2026, 11, 21, 23, 0, tzinfo=UTC))
    assert shut is not None
    assert shut.outcome == "refused_suspended"
    assert shut.message.startswith("Hello! You have reached Pizzaria.")


def test_latency_metrics_are_logged_as_emf() -> None:
    # Given a session whose messages carry the framework's latency metrics
    stream = io.StringIO()
    emf = EmfWriter("Atende", service="voice-agent", stream=stream, clock=lambda: 1_800_000_000.0)
    state = make_state()

    async def body() -> None:
        async with started(state, ScriptedLLM([say("Olá!")])) as session:
            attach_latency_metrics(session, tenant_id="pizzaria-teste", call_id="c1", emf=emf)
            await turn(session, "oi")

    run(body())
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    # Then each agent turn with metrics becomes one EMF record CloudWatch can read
    assert records
    record = records[-1]
    directive = record["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "Atende"
    assert ["service", "tenant_id"] in directive["Dimensions"]
    names = [m["Name"] for m in directive["Metrics"]]
    assert "llm_node_ttft" in names
    assert all(isinstance(record[n], float) for n in names)
    assert record["tenant_id"] == "pizzaria-teste"
    assert record["_aws"]["Timestamp"] == 1_800_000_000_000
