"""The LiveKit worker: ``AgentServer`` with an explicit agent name, one session per call.

Per job: tenant from the dispatch metadata (fallback: the room name's prefix), tenant +
agent config + menu from the cache, the SIP caller's ``sip.*`` attributes, admission
(suspended / after hours → polite refusal), then the session with the audio pipeline.
At the end: transcript + usage report (:mod:`voice_fargate.records`), and the room is
deleted so the SIP leg hangs up when the agent ended the call.

SIGTERM: ``AgentServer`` stops taking jobs and waits up to ``drain_timeout`` for live calls
to finish (``ATENDE_DRAIN_TIMEOUT_SECONDS``, default 20 min, above the longest call).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from livekit import rtc
from livekit.agents import AgentServer, CloseEvent, JobContext, JobProcess

from atende_shared.dal.tenants import tenant_store
from atende_shared.observability import logger
from atende_shared.rooms import dispatch_metadata, tenant_from_metadata, tenant_from_room
from atende_shared.settings import load_settings
from voice_fargate.brain import OfflineBrain
from voice_fargate.pipeline import (
    TURN_HANDLING,
    build_llm,
    build_stt,
    build_tts,
    load_vad,
    offline_parts,
)
from voice_fargate.protection import protect_task
from voice_fargate.records import finalise_call
from voice_fargate.services import aws_services
from voice_fargate.session import agent_for, limit_call_length, new_session, prepare_call
from voice_fargate.settings import VoiceSettings
from voice_fargate.state import CallServices, CallState
from voice_fargate.telemetry import EmfWriter, attach_latency_metrics
from voice_fargate.tenant_cache import TenantCache

SIP_CALL_ID = "sip.callID"
SIP_CALLER = "sip.phoneNumber"
SIP_DIALLED = "sip.trunkPhoneNumber"


@dataclass
class WorkerRuntime:
    """What every call in this process shares (built once, after settings validate)."""

    settings: VoiceSettings
    cache: TenantCache
    services: CallServices
    emf: EmfWriter


@cache
def runtime() -> WorkerRuntime:
    settings = load_settings(VoiceSettings)
    return WorkerRuntime(
        settings=settings,
        cache=TenantCache(
            lambda: tenant_store(settings.main_table), ttl_seconds=settings.menu_cache_ttl_seconds
        ),
        services=aws_services(
            bus_name=settings.event_bus_name,
            bucket=settings.artifacts_bucket,
            livekit=settings,
            main_table=settings.main_table,
        ),
        emf=EmfWriter(settings.metrics_namespace, service="voice-agent"),
    )


def prewarm(proc: JobProcess) -> None:
    """Per job process, before any call: the VAD model and the validated runtime."""
    proc.userdata["vad"] = load_vad()
    runtime()


def sip_attributes(participant: rtc.RemoteParticipant) -> dict[str, str]:
    return dict(participant.attributes or {})


async def open_call(
    rt: WorkerRuntime,
    *,
    job_metadata: str | None,
    room_name: str,
    participant_identity: str,
    attributes: dict[str, str],
) -> CallState | None:
    """The call's state from the job and the caller's SIP attributes (None: not ours)."""
    tenant_id = tenant_from_metadata(job_metadata) or tenant_from_room(room_name)
    if tenant_id is None:
        logger.error("job without a tenant", extra={"room": room_name})
        return None
    call_id = attributes.get(SIP_CALL_ID) or room_name
    bundle = await asyncio.to_thread(rt.cache.get, tenant_id)
    state = prepare_call(
        bundle,
        call_id=call_id,
        room_name=room_name,
        services=rt.services,
        caller_number=attributes.get(SIP_CALLER),
        dialled_number=attributes.get(SIP_DIALLED),
        participant_identity=participant_identity,
    )
    logger.info(
        "call started",
        extra={"tenant_id": tenant_id, "call_id": call_id, "refused": state.refusal is not None},
    )
    return state


async def entrypoint(ctx: JobContext) -> None:
    """One call."""
    rt = runtime()
    await ctx.connect()
    if ctx.is_fake_job():  # `console`: no SIP caller joins; talk as the console tenant
        metadata = ctx.job.metadata or dispatch_metadata(rt.settings.console_tenant)
        identity, attributes = "console", {}
    else:
        participant = await ctx.wait_for_participant()
        metadata, identity = ctx.job.metadata, participant.identity
        attributes = sip_attributes(participant)
    state = await open_call(
        rt,
        job_metadata=metadata,
        room_name=ctx.room.name,
        participant_identity=identity,
        attributes=attributes,
    )
    if state is None:
        ctx.shutdown(reason="no tenant")
        return
    tenant_id, call_id = state.tenant.tenant_id, state.call_id
    protecting = None
    if state.refusal is None:  # not awaited: the greeting must not wait for the ECS agent
        protecting = asyncio.create_task(
            protect_task(
                rt.settings.ecs_agent_uri, max_call_seconds=state.agent_config.max_call_seconds
            )
        )
    vad_model = ctx.proc.userdata.get("vad") or load_vad()
    settings = rt.settings
    session = new_session(
        state,
        llm_model=build_llm(settings, OfflineBrain(state)),
        stt_model=build_stt(settings, language=state.agent_config.language, vad_model=vad_model),
        tts_model=build_tts(settings, voice=state.agent_config.voice),
        vad_model=vad_model,
        turn_handling=TURN_HANDLING,
    )
    attach_latency_metrics(session, tenant_id=tenant_id, call_id=call_id, emf=rt.emf)

    timer: asyncio.TimerHandle | None = None

    async def write_records() -> None:
        if protecting is not None and not protecting.done():
            protecting.cancel()
        if timer is not None:
            timer.cancel()
        await finalise_call(session, state)

    ctx.add_shutdown_callback(write_records)

    def on_close(event: CloseEvent) -> None:
        # The agent ended the call (goodbye, refusal): hang up the SIP leg too.
        if state.outcome != "transferred":
            deleting = ctx.delete_room()
            deleting.add_done_callback(_log_failure("delete room", call_id))
        ctx.shutdown(reason=str(event.reason))

    session.on("close", on_close)
    await session.start(agent=agent_for(state), room=ctx.room)
    if state.refusal is None:
        timer = limit_call_length(session, state, seconds=state.agent_config.max_call_seconds)


def _log_failure(what: str, call_id: str) -> Callable[[asyncio.Future[Any]], None]:
    def check(future: asyncio.Future[Any]) -> None:
        if not future.cancelled() and future.exception() is not None:
            logger.warning(
                f"{what} failed", extra={"call_id": call_id, "error": str(future.exception())}
            )

    return check


def build_server(settings: VoiceSettings) -> AgentServer:
    """The worker, registered under the agent name the dispatch rules use."""
    server = AgentServer(
        setup_fnc=prewarm,
        drain_timeout=settings.drain_timeout_seconds,
        port=settings.health_port,
        api_key=settings.livekit_api_key,
        api_secret=settings.livekit_api_secret.get_secret_value()
        if settings.livekit_api_secret
        else None,
        ws_url=settings.livekit_url,
    )
    server.rtc_session(entrypoint, agent_name=settings.voice_agent_name)
    for part in offline_parts(settings):
        logger.warning(f"voice agent runs without a provider: {part}")
    return server
