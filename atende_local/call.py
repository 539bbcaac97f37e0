"""``atende call``: talk to a tenant's agent in a terminal, through the real agent code.

A text-mode ``AgentSession`` runs the same agent, tools, brain and records as the worker
(offline brain unless ``OPENAI_API_KEY`` is set, then OpenAI with the brain as fallback),
against the data of the local platform (``make run``), which is a separate process:

* **Tenant, agent config, menu** are read from the admin API
  (``GET /v1/tenants/{id}``, ``/agent``, ``/menu`` with the admin token), so the call sees
  exactly what an admin sees; no in-process shortcut into the platform.
* **Events and transcript** go to the platform's own moto endpoint (``aws_endpoint_url`` in
  the platform's state file ``$ATENDE_STATE_DIR/local.json``, or ``AWS_ENDPOINT_URL``):
  ``OrderPlaced`` and ``CallUsageReported`` on the bus ``<prefix>-bus`` (its rules deliver
  them to the orders and billing queues, which the platform pumps) and the transcript in
  ``<prefix>-artifacts`` — the same path they take in AWS.
* **LiveKit webhooks** the call would produce (``room_started`` and ``participant_joined``
  before the conversation; ``participant_left`` and ``room_finished`` after) are POSTed to
  ``/webhooks/livekit``, signed with the local dev key (``LIVEKIT_API_KEY`` /
  ``LIVEKIT_API_SECRET``, else the platform's state file), with a room named
  ``room_prefix(tenant) + call id`` and a SIP participant carrying ``sip.callID``,
  ``sip.phoneNumber`` and ``sip.trunkPhoneNumber`` — so billing rates the call.

A typed conversation is much faster than a spoken one, so the webhooks date the call as
lasting ``--seconds-per-turn`` (default 6) per caller turn plus the greeting: billing
rates the length the phone call would have had.

``--script FILE`` replays one caller utterance per line (the call ends when the agent ends
it or the lines run out); ``--json`` prints the outcome (order, total, transcript, call
id). ``--at`` sets the call's clock for the business-hours check (the demo pizzeria opens
18:00-23:30, São Paulo time).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.rooms import room_prefix

DEFAULT_TENANT = "demo-pizzaria"
DEFAULT_CALLER = "+5511987654321"
DEFAULT_DIALLED = "+551130000000"


class LocalCallSettings(BaseSettings):
    """Where the local platform is; all optional (the platform's state file fills gaps)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=True)

    url: str | None = Field(None, validation_alias="ATENDE_URL")
    port: int = Field(8000, validation_alias="ATENDE_PORT")
    admin_token: SecretStr | None = Field(None, validation_alias="ATENDE_ADMIN_TOKEN")
    state_dir: Path = Field(Path(".atende"), validation_alias="ATENDE_STATE_DIR")
    resource_prefix: str = Field("atende-local", validation_alias="ATENDE_RESOURCE_PREFIX")
    aws_endpoint_url: str | None = Field(None, validation_alias="AWS_ENDPOINT_URL")
    livekit_api_key: str | None = Field(None, validation_alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(None, validation_alias="LIVEKIT_API_SECRET")


@dataclass
class Platform:
    """How to reach a running local platform."""

    url: str
    token: str | None
    aws_endpoint_url: str | None
    livekit_key: str | None
    livekit_secret: str | None
    prefix: str

    @property
    def bus_name(self) -> str:
        return f"{self.prefix}-bus"

    @property
    def bucket(self) -> str:
        return f"{self.prefix}-artifacts"


def resolve_platform(args: argparse.Namespace, settings: LocalCallSettings) -> Platform:
    """Flags first, then the environment, then the platform's state file."""
    state_file = Path(args.state_file) if args.state_file else settings.state_dir / "local.json"
    state: dict[str, Any] = {}
    if state_file.is_file():
        try:
            state = json.loads(state_file.read_text())
        except ValueError:
            state = {}
    livekit = state.get("livekit") or {}
    url = args.url or settings.url or state.get("url") or f"http://127.0.0.1:{settings.port}"
    token = args.token or (
        settings.admin_token.get_secret_value() if settings.admin_token else None
    )
    secret = settings.livekit_api_secret.get_secret_value() if settings.livekit_api_secret else None
    return Platform(
        url=str(url).rstrip("/"),
        token=token or state.get("admin_token"),
        aws_endpoint_url=settings.aws_endpoint_url or state.get("aws_endpoint_url"),
        livekit_key=settings.livekit_api_key or livekit.get("api_key"),
        livekit_secret=secret or livekit.get("api_secret"),
        prefix=settings.resource_prefix,
    )


class PlatformError(RuntimeError):
    """The platform answered with an error or could not be reached."""


def _get(client: httpx.Client, path: str) -> dict[str, Any]:
    try:
        response = client.get(path)
    except httpx.HTTPError as exc:
        raise PlatformError(f"cannot reach the platform at {client.base_url}: {exc}") from exc
    if response.status_code != 200:
        raise PlatformError(f"GET {path}: {response.status_code} {response.text[:300]}")
    data = response.json()
    if not isinstance(data, dict):
        raise PlatformError(f"GET {path}: unexpected body {data!r:.200}")
    return data


def load_tenant(platform: Platform, tenant_id: str) -> tuple[Tenant, AgentConfig, Menu]:
    """Tenant, agent configuration and menu as the admin API shows them."""
    headers = {"Authorization": f"Bearer {platform.token}"} if platform.token else {}
    with httpx.Client(base_url=platform.url, headers=headers, timeout=10) as client:
        tenant = Tenant.model_validate(_get(client, f"/v1/tenants/{tenant_id}"))
        config = AgentConfig.model_validate(_get(client, f"/v1/tenants/{tenant_id}/agent"))
        menu_body = _get(client, f"/v1/tenants/{tenant_id}/menu")
    menu = Menu.model_validate(menu_body.get("menu", menu_body))
    return tenant, config, menu


# -- LiveKit webhooks ------------------------------------------------------------------------


@dataclass
class CallTimes:
    started: float
    joined: float
    left: float
    finished: float


@dataclass
class WebhookResult:
    event: str
    status: int | None
    error: str | None = None


@dataclass
class LiveKitWebhooks:
    """Builds and signs the webhooks LiveKit would send for one SIP call."""

    platform: Platform
    tenant_id: str
    call_id: str
    caller: str
    dialled: str
    room_sid: str = field(default_factory=lambda: f"RM_{secrets.token_hex(6)}")
    participant_sid: str = field(default_factory=lambda: f"PA_{secrets.token_hex(6)}")

    @property
    def room_name(self) -> str:
        return room_prefix(self.tenant_id) + self.call_id

    @property
    def identity(self) -> str:
        return f"sip_{self.caller}"

    def event(self, kind: str, at: float, *, joined_at: float) -> str:
        from google.protobuf.json_format import MessageToJson
        from livekit.protocol import models, webhook

        room = models.Room(
            sid=self.room_sid,
            name=self.room_name,
            creation_time=int(joined_at),
            num_participants=0 if kind in ("room_started", "room_finished") else 1,
        )
        event = webhook.WebhookEvent(
            event=kind, room=room, id=f"EV_{secrets.token_hex(8)}", created_at=int(at)
        )
        if kind.startswith("participant_"):
            event.participant.CopyFrom(
                models.ParticipantInfo(
                    sid=self.participant_sid,
                    identity=self.identity,
                    name=self.caller,
                    kind=models.ParticipantInfo.Kind.SIP,
                    joined_at=int(joined_at),
                    state=(
                        models.ParticipantInfo.State.DISCONNECTED
                        if kind == "participant_left"
                        else models.ParticipantInfo.State.ACTIVE
                    ),
                    attributes={
                        "sip.callID": self.call_id,
                        "sip.phoneNumber": self.caller,
                        "sip.trunkPhoneNumber": self.dialled,
                        "sip.trunkID": "ST_local",
                        "sip.ruleID": "SDR_local",
                        "sip.callStatus": "hangup" if kind == "participant_left" else "active",
                    },
                )
            )
        return MessageToJson(event, indent=None)

    def sign(self, body: str) -> str:
        from livekit.api import AccessToken

        if not self.platform.livekit_key or not self.platform.livekit_secret:
            raise PlatformError("no LiveKit dev key/secret (LIVEKIT_API_KEY / LIVEKIT_API_SECRET)")
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode()
        return (
            AccessToken(self.platform.livekit_key, self.platform.livekit_secret)
            .with_ttl(timedelta(minutes=5))  # LiveKit's own validity; ingress refuses longer
            .with_sha256(digest)
            .to_jwt()
        )

    def post(self, kind: str, at: float, *, joined_at: float) -> WebhookResult:
        try:
            body = self.event(kind, at, joined_at=joined_at)
            token = self.sign(body)
            response = httpx.post(
                f"{self.platform.url}/webhooks/livekit",
                content=body.encode("utf-8"),
                headers={"Authorization": token, "Content-Type": "application/webhook+json"},
                timeout=10,
            )
        except (httpx.HTTPError, PlatformError) as exc:
            return WebhookResult(kind, None, str(exc))
        error = None if response.status_code < 300 else response.text[:300]
        return WebhookResult(kind, response.status_code, error)


# -- the conversation ------------------------------------------------------------------------


def _lines(script: str | None, prompt: str = "você> ") -> Iterator[str]:
    if script is not None:
        for raw in Path(script).read_text(encoding="utf-8").splitlines():
            if raw.strip() and not raw.lstrip().startswith("#"):
                yield raw.strip()
        return
    while True:
        try:
            line = input(prompt)
        except EOFError:
            return
        if line.strip():
            yield line.strip()


def _use_platform_aws(platform: Platform) -> bool:
    """Point this process's boto3 clients at the platform's moto endpoint."""
    from atende_shared.aws import reset_clients

    if not platform.aws_endpoint_url:
        return False
    os.environ["AWS_ENDPOINT_URL"] = platform.aws_endpoint_url
    for name, value in {
        "AWS_ACCESS_KEY_ID": "atende-local",
        "AWS_SECRET_ACCESS_KEY": "atende-local",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        os.environ.setdefault(name, value)
    reset_clients()
    return True


@dataclass
class MemoryPublisher:
    """Used when no moto endpoint is known: events are kept and printed, not delivered."""

    events: list[Any] = field(default_factory=list)

    def publish(self, events: Any) -> None:
        self.events.extend(events)


@dataclass
class MemoryTranscripts:
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put_json(self, key: str, body: dict[str, Any]) -> None:
        self.bodies[key] = body


class RecordingPublisher:
    """Publishes through ``inner`` and remembers what went out (for ``--json``)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.sent: list[Any] = []

    def publish(self, events: Any) -> None:
        self.inner.publish(events)
        self.sent.extend(events)


async def converse(
    tenant: Tenant,
    config: AgentConfig,
    menu: Menu,
    *,
    call_id: str,
    caller: str,
    dialled: str,
    publisher: Any,
    transcripts: Any,
    lines: Iterator[str],
    at: datetime | None,
    echo: bool,
    allocate_number: Any = None,
) -> tuple[dict[str, Any], int]:
    """Run the text-mode session; returns the transcript and the number of caller turns."""
    from atende_shared.settings import load_settings
    from voice_fargate.brain import OfflineBrain
    from voice_fargate.pipeline import build_llm
    from voice_fargate.records import finalise_call
    from voice_fargate.services import RecordingTransferer
    from voice_fargate.session import agent_for, new_session, prepare_call
    from voice_fargate.settings import ProviderSettings
    from voice_fargate.state import CallServices
    from voice_fargate.tenant_cache import TenantBundle

    state = prepare_call(
        TenantBundle(tenant=tenant, agent_config=config, menu=menu),
        call_id=call_id,
        room_name=room_prefix(tenant.tenant_id) + call_id,
        services=CallServices(
            publisher=publisher,
            transcripts=transcripts,
            transferer=RecordingTransferer(),
            allocate_number=allocate_number,
        ),
        caller_number=caller,
        dialled_number=dialled,
        participant_identity=f"sip_{caller}",
        now=at,
    )
    model = build_llm(load_settings(ProviderSettings), OfflineBrain(state))
    turns = 0
    async with model, new_session(state, llm_model=model) as session:
        closed = asyncio.Event()
        session.on("close", lambda _event: closed.set())
        printed = 0

        def show() -> None:
            nonlocal printed
            messages = [m for m in session.history.messages() if m.role == "assistant"]
            for message in messages[printed:]:
                if echo:
                    print(f"agente> {message.text_content}", flush=True)
            printed = len(messages)

        await session.start(agent_for(state))
        for _ in range(100):  # the greeting (or refusal) is said before the caller speaks
            if any(m.role == "assistant" for m in session.history.messages()):
                break
            await asyncio.sleep(0.01)
        show()
        for line in lines:
            if closed.is_set():
                break
            if echo and not sys.stdin.isatty():
                print(f"você> {line}", flush=True)
            turns += 1
            await session.run(user_input=line)
            show()
            if state.outcome != "in_progress":
                # The agent ended (or transferred) the call: let the goodbye finish and the
                # session close, and stop asking for lines — the phone would be silent now.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(closed.wait(), 3.0)
                break
        if state.refusal:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(closed.wait(), 3.0)
        show()
        transcript = await finalise_call(session, state)
    return transcript, turns


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="atende call", description=__doc__.splitlines()[0])
    parser.add_argument("--tenant", default=DEFAULT_TENANT)
    parser.add_argument("--script", help="one caller utterance per line")
    parser.add_argument("--json", action="store_true", help="print the outcome as JSON")
    parser.add_argument("--url", help="the local platform (default: ATENDE_URL / state file)")
    parser.add_argument("--token", help="admin token (default: ATENDE_ADMIN_TOKEN / state file)")
    parser.add_argument("--state-file", help="the platform's local.json")
    parser.add_argument("--caller", default=DEFAULT_CALLER, help="the caller's number (E.164)")
    parser.add_argument("--dialled", default=DEFAULT_DIALLED, help="the number dialled")
    parser.add_argument("--at", help="ISO time of the call for the business-hours check")
    parser.add_argument("--seconds-per-turn", type=float, default=6.0)
    parser.add_argument("--no-webhooks", action="store_true")
    args = parser.parse_args(argv)

    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    # A tool's refusal (sold out, which size?) is part of the dialogue, said by the agent;
    # the framework's "ToolError while executing tool" warning is noise to the caller.
    logging.getLogger("livekit.agents").setLevel(logging.ERROR)
    settings = LocalCallSettings()
    platform = resolve_platform(args, settings)
    try:
        tenant, config, menu = load_tenant(platform, args.tenant)
    except PlatformError as exc:
        print(f"atende call: {exc}", file=sys.stderr)
        return 2
    at = datetime.fromisoformat(args.at) if args.at else None

    from atende_shared.messaging import EventBridgePublisher
    from voice_fargate.services import S3TranscriptStore

    delivered = _use_platform_aws(platform)
    inner: Any = EventBridgePublisher(platform.bus_name) if delivered else MemoryPublisher()
    publisher = RecordingPublisher(inner)
    transcripts: Any = S3TranscriptStore(platform.bucket) if delivered else MemoryTranscripts()
    if not delivered and not args.json:
        print("note: no moto endpoint known; the order stays in this process", file=sys.stderr)

    allocate = None
    if delivered:
        from voice_fargate.services import number_allocator

        allocate = number_allocator(f"{platform.prefix}-main")

    call_id = f"SCL_{secrets.token_hex(6)}"
    hooks = LiveKitWebhooks(platform, tenant.tenant_id, call_id, args.caller, args.dialled)
    wall_start = time.time()
    transcript, turns = asyncio.run(
        converse(
            tenant,
            config,
            menu,
            call_id=call_id,
            caller=args.caller,
            dialled=args.dialled,
            publisher=publisher,
            transcripts=transcripts,
            lines=_lines(args.script, "you> " if config.language.startswith("en") else "você> "),
            at=at,
            echo=not args.json,
            allocate_number=allocate,
        )
    )
    webhooks: list[WebhookResult] = []
    if not args.no_webhooks:
        now = time.time()
        span = max(now - wall_start, args.seconds_per_turn * (turns + 1))
        span = min(span, 240.0)  # inside the webhook freshness window
        started = now - span - 1
        times = CallTimes(started=started, joined=started + 1, left=now - 1, finished=now)
        for kind, when in (
            ("room_started", times.started),
            ("participant_joined", times.joined),
            ("participant_left", times.left),
            ("room_finished", times.finished),
        ):
            webhooks.append(hooks.post(kind, when, joined_at=times.joined))

    order = transcript.get("order")
    outcome = {
        "call_id": call_id,
        "room_name": hooks.room_name,
        "tenant_id": tenant.tenant_id,
        "outcome": transcript["outcome"],
        "order": order,
        "total_cents": order["total_cents"] if order else None,
        "cart": transcript["cart"],
        "transcript": transcript["turns"],
        "tool_calls": transcript["tool_calls"],
        "events_published": [e.detail_type for e in publisher.sent],
        "delivered_to_platform": delivered,
        "webhooks": [w.__dict__ for w in webhooks],
    }
    if args.json:
        print(json.dumps(outcome, ensure_ascii=False, indent=2, default=str))
    else:
        summary = transcript["summary"]
        print(f"\n[{call_id}] {summary}")
        if order:
            print(f"  order number {order['number']} (id {order['order_id']})")
        for hook in webhooks:
            status = hook.status if hook.status is not None else f"not sent ({hook.error})"
            print(f"  webhook {hook.event}: {status}")
    failed = [w for w in webhooks if w.status is None or w.status >= 300]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
