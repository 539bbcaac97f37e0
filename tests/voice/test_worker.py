"""The worker's wiring: settings, agent name, drain, and opening a call from a job."""

from __future__ import annotations

import base64
import hashlib
import json
from argparse import Namespace
from pathlib import Path

import pytest

from atende_local.bootstrap import LocalResources
from atende_local.call import LiveKitWebhooks, LocalCallSettings, Platform, resolve_platform
from atende_shared.dal.tenants import tenant_store
from atende_shared.errors import ConfigurationError
from atende_shared.models.tenant import AgentConfig, Tenant, TenantStatus
from atende_shared.rooms import dispatch_metadata, room_prefix
from atende_shared.settings import load_settings
from tests.voice.conftest import FakePublisher, FakeTranscripts, FakeTransferer, menu_pt
from tests.voice.helpers import run
from voice_fargate.pipeline import build_llm, build_stt, build_tts, offline_parts
from voice_fargate.settings import VoiceSettings
from voice_fargate.state import CallServices
from voice_fargate.telemetry import EmfWriter
from voice_fargate.tenant_cache import TenantCache
from voice_fargate.worker import WorkerRuntime, build_server, open_call


def test_settings_name_every_missing_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ATENDE_MAIN_TABLE", "ATENDE_EVENT_BUS", "ATENDE_ARTIFACTS_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    from atende_shared.settings import reset_settings_cache

    reset_settings_cache()
    with pytest.raises(ConfigurationError) as caught:
        load_settings(VoiceSettings)
    for name in ("ATENDE_MAIN_TABLE", "ATENDE_EVENT_BUS", "ATENDE_ARTIFACTS_BUCKET"):
        assert name in str(caught.value)
    reset_settings_cache()


def test_server_registers_the_dispatch_agent_name_and_drains(aws: LocalResources) -> None:
    # Given the environment of a task without provider keys
    settings = load_settings(VoiceSettings)
    # When the worker is built
    server = build_server(settings)
    # Then it answers dispatches for the configured agent name and drains live calls
    # (framework attributes: AgentServer exposes no public getter for them)
    assert server._agent_name == "atende-voice-agent"
    assert server._drain_timeout == settings.drain_timeout_seconds
    assert settings.drain_timeout_seconds > AgentConfig(tenant_id="t-1").max_call_seconds
    # And without keys the LLM is the offline brain alone, with no STT/TTS clients built
    sentinel = object()
    assert build_llm(settings, sentinel) is sentinel  # type: ignore[arg-type]
    assert build_tts(settings, voice="alloy") is None
    assert build_stt(settings, language="pt-BR", vad_model=None) is None  # type: ignore[arg-type]
    assert any("offline brain" in part for part in offline_parts(settings))


def _runtime(aws: LocalResources) -> tuple[WorkerRuntime, FakePublisher]:
    settings = load_settings(VoiceSettings)
    publisher = FakePublisher()
    runtime = WorkerRuntime(
        settings=settings,
        cache=TenantCache(lambda: tenant_store(settings.main_table)),
        services=CallServices(
            publisher=publisher, transcripts=FakeTranscripts(), transferer=FakeTransferer()
        ),
        emf=EmfWriter("Atende", service="voice-agent"),
    )
    return runtime, publisher


def test_open_call_reads_tenant_from_dispatch_metadata_and_sip_attributes(
    aws: LocalResources,
) -> None:
    runtime, _ = _runtime(aws)
    store = tenant_store(runtime.settings.main_table)
    store.put_tenant(Tenant(tenant_id="pizzaria-teste", name="Pizzaria Teste"))
    store.put_menu("pizzaria-teste", menu_pt())
    room = room_prefix("pizzaria-teste") + "abc"
    attributes = {
        "sip.callID": "SCL_42",
        "sip.phoneNumber": "+5511911112222",
        "sip.trunkPhoneNumber": "+551130000000",
    }
    # When a job arrives with the tenant in its metadata
    state = run(
        open_call(
            runtime,
            job_metadata=dispatch_metadata("pizzaria-teste"),
            room_name=room,
            participant_identity="sip_+5511911112222",
            attributes=attributes,
        )
    )
    # Then the call knows its tenant, menu, caller and call id, and may take orders
    assert state is not None
    assert (state.tenant.tenant_id, state.call_id, state.caller_number) == (
        "pizzaria-teste",
        "SCL_42",
        "+5511911112222",
    )
    assert state.dialled_number == "+551130000000"
    assert len(state.menu.items) == len(menu_pt().items)
    assert state.refusal is None
    # And without metadata the room name's prefix names the tenant; foreign rooms are not ours
    fallback = run(
        open_call(runtime, job_metadata="", room_name=room, participant_identity="p", attributes={})
    )
    assert fallback is not None
    assert fallback.call_id == room
    foreign = run(
        open_call(
            runtime, job_metadata=None, room_name="other", participant_identity="p", attributes={}
        )
    )
    assert foreign is None


def test_open_call_for_a_suspended_tenant_is_a_refusal(aws: LocalResources) -> None:
    runtime, publisher = _runtime(aws)
    store = tenant_store(runtime.settings.main_table)
    store.put_tenant(
        Tenant(tenant_id="pizzaria-teste", name="Pizzaria Teste", status=TenantStatus.SUSPENDED)
    )
    state = run(
        open_call(
            runtime,
            job_metadata=dispatch_metadata("pizzaria-teste"),
            room_name=room_prefix("pizzaria-teste") + "x",
            participant_identity="p",
            attributes={},
        )
    )
    assert state is not None
    assert state.outcome == "refused_suspended"
    assert state.refusal
    assert publisher.events == []


def test_local_call_webhooks_verify_with_livekit_receiver() -> None:
    # Given the webhooks the local call posts for one SIP call
    platform = Platform(
        url="http://127.0.0.1:1",
        token=None,
        aws_endpoint_url=None,
        livekit_key="devkey",
        livekit_secret="dev-secret-0123456789abcdef0123456789",
        prefix="atende-local",
    )
    hooks = LiveKitWebhooks(platform, "demo-pizzaria", "SCL_1", "+5511987654321", "+551130000000")
    body = hooks.event("participant_joined", 1_800_000_000, joined_at=1_800_000_000)
    token = hooks.sign(body)
    # Then LiveKit's own receiver accepts them, with the SIP attributes billing reads
    from livekit.api import TokenVerifier, WebhookReceiver

    event = WebhookReceiver(TokenVerifier("devkey", platform.livekit_secret or "")).receive(
        body, token
    )
    assert event.room.name == "atd_demo-pizzaria_SCL_1"
    assert dict(event.participant.attributes)["sip.callID"] == "SCL_1"
    assert dict(event.participant.attributes)["sip.phoneNumber"] == "+5511987654321"
    assert dict(event.participant.attributes)["sip.trunkPhoneNumber"] == "+551130000000"
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "==="))
    assert claims["exp"] - claims["nbf"] <= 300  # LiveKit's five-minute validity
    assert claims["sha256"] == base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()


def test_local_call_finds_the_platform_from_its_state_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_file = tmp_path / "local.json"
    state_file.write_text(
        json.dumps(
            {
                "url": "http://127.0.0.1:9999",
                "admin_token": "tok",
                "aws_endpoint_url": "http://127.0.0.1:5555",
                "livekit": {"api_key": "devkey", "api_secret": "s3cret"},
            }
        )
    )
    for name in ("ATENDE_URL", "ATENDE_ADMIN_TOKEN", "AWS_ENDPOINT_URL", "LIVEKIT_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LIVEKIT_API_SECRET", raising=False)
    args = Namespace(state_file=str(state_file), url=None, token=None)
    platform = resolve_platform(args, LocalCallSettings())
    assert (platform.url, platform.token, platform.aws_endpoint_url) == (
        "http://127.0.0.1:9999",
        "tok",
        "http://127.0.0.1:5555",
    )
    assert (platform.livekit_key, platform.livekit_secret) == ("devkey", "s3cret")
    assert (platform.bus_name, platform.bucket) == ("atende-local-bus", "atende-local-artifacts")


def test_task_protection_covers_the_longest_call() -> None:
    import httpx

    from voice_fargate.protection import protect_task

    seen: list[httpx.Request] = []

    def ecs_agent(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"protection": {"ProtectionEnabled": True}})

    # Given ECS's agent endpoint, when a 15-minute-max call starts
    ok = run(
        protect_task(
            "http://169.254.170.2/api/task",
            max_call_seconds=900,
            transport=httpx.MockTransport(ecs_agent),
        )
    )
    # Then the task is protected for the whole call plus a margin
    assert ok
    (request,) = seen
    assert request.method == "PUT"
    assert request.url.path == "/api/task/task-protection/v1/state"
    assert json.loads(request.content) == {"ProtectionEnabled": True, "ExpiresInMinutes": 17}
    # And outside ECS, or when ECS refuses, the call goes on
    assert not run(protect_task(None, max_call_seconds=900))
    refused = httpx.MockTransport(lambda r: httpx.Response(200, json={"failure": {"Reason": "x"}}))
    assert not run(protect_task("http://ecs", max_call_seconds=900, transport=refused))
