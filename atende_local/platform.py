"""``atende local run``: the whole platform in one process.

Start order: gateway port bound (fails fast when taken) → moto (server mode, 127.0.0.1,
free port) → environment (endpoint, fake credentials, LiveKit key) → the fake LiveKit SIP
API unless ``LIVEKIT_URL`` is set → resources from the wiring → demo tenant → handlers
imported (failures reported, never fatal) → queue pumps and scheduler → demo number via
the admin API → state file → the gateway serves. Stop order is the reverse; every part
is a thread of this process, so nothing outlives it.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from aws_lambda_powertools import Logger
from moto.server import ThreadedMotoServer

from atende_local import fake_whatsapp
from atende_local.apigw import HttpRequest
from atende_local.bootstrap import LocalResources, create_resources
from atende_local.console_site import CONSOLE_PREFIX, ConsoleSite
from atende_local.dlq import find_queue, list_queues, move_messages
from atende_local.dlq import peek as peek_dlq
from atende_local.gateway import Gateway, LocalHttpServer
from atende_local.pumps import PumpSet, QueuePump
from atende_local.runtime import LOCAL_REGION, FunctionRegistry
from atende_local.schedules import Scheduler
from atende_local.seed import (
    SeedReport,
    demo_whatsapp_instances,
    seed_console_users,
    seed_demo,
)
from atende_local.settings import DEV_LIVEKIT_API_KEY, LocalSettings
from atende_local.tenant_auth import CognitoVerifier, UserPool, create_user_pool, fetch_jwks
from atende_shared.aws import client, reset_clients
from atende_shared.http import TENANT_ROUTES_ENV
from atende_shared.resources import Table, table_env
from atende_shared.settings import reset_settings_cache
from functions.wiring import FUNCTIONS
from functions.wiring_model import FunctionSpec, tenant_routes_env

log = Logger(service="atende-local", use_rfc3339=True)

#: Variables that would send boto3 to a real account; the platform must never do that.
_REAL_AWS_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


@dataclass
class LiveKitInfo:
    mode: str  # "real" (LIVEKIT_URL set or ATENDE_MEDIA=real), "fake" (local fake SIP API)
    # or "offline"
    url: str | None
    api_key: str
    api_secret: str
    sip_address: str | None = None  # ATENDE_MEDIA=real: where phones send INVITEs


@dataclass
class PlatformInfo:
    """Everything printed at start-up; also written to ``$ATENDE_STATE_DIR/local.json``."""

    url: str
    port: int
    admin_token: str
    admin_token_generated: bool
    aws_endpoint_url: str
    livekit: LiveKitInfo
    seed: SeedReport | None
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)
    startup_seconds: float = 0.0
    seed_error: str | None = None
    #: The restaurant console: URL, user pool and the seeded users (local demo passwords).
    console: dict[str, Any] = field(default_factory=dict)
    pid: int = field(default_factory=os.getpid)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class LocalPlatform:
    """Start and stop the local platform (see the module docstring for the order)."""

    def __init__(
        self,
        settings: LocalSettings,
        *,
        functions: tuple[FunctionSpec, ...] = FUNCTIONS,
        registry: FunctionRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.functions = functions
        self.registry = registry or FunctionRegistry(functions)
        self.moto: ThreadedMotoServer | None = None
        self.resources: LocalResources | None = None
        self.pumps = PumpSet()
        self.scheduler: Scheduler | None = None
        self.server: LocalHttpServer | None = None
        self.gateway: Gateway | None = None
        self.fake_livekit: Any = None
        self.media_stack: Any = None
        self.fake_whatsapp: fake_whatsapp.FakeWhatsAppServer | None = None
        self.seed_error: str | None = None
        self.info: PlatformInfo | None = None
        self._token = (
            settings.admin_token.get_secret_value()
            if settings.admin_token
            # hex, not urlsafe: a token that starts with '-' reads as an option on a CLI.
            else secrets.token_hex(24)
        )
        self._stopped = threading.Event()

    # -- start ---------------------------------------------------------------------------

    def start(self) -> PlatformInfo:
        started = time.perf_counter()
        self.server = LocalHttpServer((self.settings.host, self.settings.port))
        # moto's werkzeug logs one line per AWS call: far too chatty next to JSON logs.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        # Powertools warns on every invocation that emitted no business metric; locally
        # that is noise between the JSON lines (the EMF cold-start line still prints).
        warnings.filterwarnings("ignore", message="No application metrics to publish")
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        host, port = self.moto.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        livekit = self._configure_environment(endpoint)
        livekit = self._start_livekit(livekit)
        reset_clients()
        reset_settings_cache()

        self.resources = create_resources(self.settings.resource_prefix)
        os.environ.update(self.resources.env)
        if self.settings.visibility_timeout_seconds:
            for handle in self.resources.queues.values():
                client("sqs").set_queue_attributes(
                    QueueUrl=handle.url,
                    Attributes={"VisibilityTimeout": str(self.settings.visibility_timeout_seconds)},
                )
        reset_settings_cache()

        whatsapp_url = self._start_whatsapp()
        seed = None
        if self.settings.seed_demo:
            try:
                seed = seed_demo(
                    main_table=self.resources.env[table_env(Table.MAIN)],
                    whatsapp_base_url=whatsapp_url,
                )
            except Exception as exc:  # a broken seed must not keep the platform down
                self.seed_error = f"{type(exc).__name__}: {exc}"
                log.exception("demo tenant not seeded")

        pool, console = self._start_user_pool(endpoint)
        # Which routes restaurant users may call (every function's, from the wiring); in
        # AWS the CDK app sets each function's own.
        tenant_routes = tenant_routes_env(self.functions)
        if tenant_routes:
            os.environ[TENANT_ROUTES_ENV] = tenant_routes

        self.registry.load_all()
        self._start_pumps()
        self.scheduler = Scheduler(
            list(self.functions), self.registry.load, prefix=self.settings.resource_prefix
        )
        self.scheduler.start()

        self.gateway = Gateway(
            self.registry,
            admin_token=self._token,
            prefix=self.settings.resource_prefix,
            health=self.health,
            trigger=self.trigger,
            queues=self.queues,
            replay=self.replay,
            peek=self.peek,
            server_url=lambda: self.url,
            whatsapp=self.fake_whatsapp.fake if self.fake_whatsapp else None,
            tenant_auth=CognitoVerifier(pool, fetch_jwks(endpoint, pool)),
            cognito_endpoint=f"{endpoint}#{pool.region}",
            console=ConsoleSite(
                config={
                    "apiBase": "/app",
                    "cognito": {
                        "endpoint": "/_local/cognito",
                        "region": pool.region,
                        "userPoolId": pool.user_pool_id,
                        "clientId": pool.client_id,
                    },
                    "stage": "local",
                    "pollSeconds": 3,
                    # The browser test call has audio only with a real LiveKit server.
                    "livekit": {"mode": livekit.mode},
                }
            ),
        )
        self.server.gateway = self.gateway
        if seed is not None:
            self._assign_demo_number(seed)
        self.info = PlatformInfo(
            url=self.url,
            port=self.server.port,
            admin_token=self._token,
            admin_token_generated=self.settings.admin_token is None,
            aws_endpoint_url=endpoint,
            livekit=livekit,
            seed=seed,
            functions={n: asdict(s) for n, s in self.registry.states().items()},
            startup_seconds=round(time.perf_counter() - started, 3),
            seed_error=self.seed_error,
            console={**console, "url": f"{self.url}{CONSOLE_PREFIX}/"},
        )
        # Serve last: once /health answers, the state file and the demo data are there.
        self._write_state()
        self.server.start_in_thread()
        return self.info

    @property
    def url(self) -> str:
        port = self.server.port if self.server else self.settings.port
        return f"http://{self.settings.host}:{port}"

    def _configure_environment(self, endpoint: str) -> LiveKitInfo:
        for name in _REAL_AWS_VARIABLES:
            os.environ.pop(name, None)
        lk_key = self.settings.livekit_api_key or DEV_LIVEKIT_API_KEY
        lk_secret = (
            self.settings.livekit_api_secret.get_secret_value()
            if self.settings.livekit_api_secret
            else secrets.token_hex(32)
        )
        os.environ.update(
            {
                "AWS_ENDPOINT_URL": endpoint,
                "AWS_ACCESS_KEY_ID": "atende-local",
                "AWS_SECRET_ACCESS_KEY": "atende-local",  # moto accepts anything
                "AWS_DEFAULT_REGION": LOCAL_REGION,
                "AWS_REGION": LOCAL_REGION,
                "ATENDE_STAGE": "local",
                "LIVEKIT_API_KEY": lk_key,
                "LIVEKIT_API_SECRET": lk_secret,
            }
        )
        for name, value in {
            "POWERTOOLS_SERVICE_NAME": "atende",
            "POWERTOOLS_METRICS_NAMESPACE": "AtendeLocal",
            "POWERTOOLS_TRACE_DISABLED": "true",
            # The demo tenant's Asaas api_key is not a real one: no verification at Asaas
            # unless pointed at it (e.g. https://api-sandbox.asaas.com with a sandbox key).
            "ATENDE_ASAAS_API_URL": "off",
        }.items():
            os.environ.setdefault(name, value)
        mode = "real" if self.settings.livekit_url else "offline"
        return LiveKitInfo(
            mode=mode, url=self.settings.livekit_url, api_key=lk_key, api_secret=lk_secret
        )

    def _start_livekit(self, livekit: LiveKitInfo) -> LiveKitInfo:
        """Without a real LiveKit, serve the fake SIP API so provisioning works locally;
        with ``ATENDE_MEDIA=real``, start the real stack, its webhooks sent here."""
        if livekit.mode == "real":
            return livekit
        if self.settings.media == "real":
            return self._start_media_stack(livekit)
        try:
            from atende_local import fake_livekit
        except ImportError:
            return livekit  # offline: provisioning jobs fail and retry until LiveKit exists
        self.fake_livekit = fake_livekit.start(
            "127.0.0.1", 0, api_key=livekit.api_key, api_secret=livekit.api_secret
        )
        os.environ["LIVEKIT_URL"] = self.fake_livekit.url
        return LiveKitInfo(
            mode="fake",
            url=self.fake_livekit.url,
            api_key=livekit.api_key,
            api_secret=livekit.api_secret,
        )

    def _start_whatsapp(self) -> str:
        """Serve the fake Z-API and Evolution send APIs (the demo tenant's instances) and
        answer the fake's URL, which the seed writes into the demo tenant's secrets."""
        self.fake_whatsapp = fake_whatsapp.start("127.0.0.1", 0)
        for instance in demo_whatsapp_instances():
            if isinstance(instance, fake_whatsapp.ZapiInstance):
                self.fake_whatsapp.fake.add_zapi(instance)
            else:
                self.fake_whatsapp.fake.add_evolution(instance)
        self.fake_whatsapp.fake.on_sent = self._echo_sent_message
        return self.fake_whatsapp.url

    def _start_user_pool(self, endpoint: str) -> tuple[UserPool, dict[str, Any]]:
        """The restaurant users' pool (moto's Cognito) and, with the demo, its users."""
        pool = create_user_pool(
            f"{self.settings.resource_prefix}-tenant-users", region=LOCAL_REGION
        )
        users: list[dict[str, str]] = []
        if self.settings.seed_demo and self.resources is not None:
            try:
                seeded = seed_console_users(
                    main_table=self.resources.env[table_env(Table.MAIN)], pool=pool
                )
                users = [asdict(u) for u in seeded]
            except Exception as exc:  # the console's users must not keep the platform down
                log.exception("console users not seeded")
                self.seed_error = f"console users: {type(exc).__name__}: {exc}"
        # Invitations (POST /v1/tenants/{tenant_id}/users) create users in this pool.
        os.environ["ATENDE_TENANT_USER_POOL_ID"] = pool.user_pool_id
        info = {"user_pool_id": pool.user_pool_id, "client_id": pool.client_id, "users": users}
        return pool, info

    def _start_media_stack(self, livekit: LiveKitInfo) -> LiveKitInfo:
        from atende_local.media import stack

        assert self.server is not None
        self.media_stack = stack.start(
            self.settings.state_dir / "media",
            api_key=livekit.api_key,
            api_secret=livekit.api_secret,
            webhook_urls=[f"http://127.0.0.1:{self.server.port}/webhooks/livekit"],
        )
        os.environ["LIVEKIT_URL"] = self.media_stack.http_url
        return LiveKitInfo(
            mode="real",
            url=self.media_stack.http_url,
            api_key=livekit.api_key,
            api_secret=livekit.api_secret,
            sip_address=self.media_stack.sip_address,
        )

    def _echo_sent_message(self, message: dict[str, Any]) -> None:
        """Post the ``fromMe`` echo of a sent message to the platform's webhook, as both
        gateways do (Z-API with "notify sent by me" on), from another thread as a gateway
        would; the channel must recognise it as its own."""
        from atende_local.chat import evolution_delivery, zapi_delivery
        from atende_local.seed import DEMO_SECRETS, DEMO_TENANT_ID

        if message["gateway"] == "zapi":
            body = zapi_delivery(
                ".", phone=message["to"], message_id=message["message_id"], from_me=True
            )
            body["text"] = {"message": message["text"]}
            body["fromApi"] = True
            path = f"/webhooks/zapi/{DEMO_TENANT_ID}"
            headers = [("Client-Token", DEMO_SECRETS["zapi"]["client_token"])]
        else:
            body = evolution_delivery(
                ".",
                phone=message["to"].split("@")[0],
                message_id=message["message_id"],
                from_me=True,
            )
            body["data"]["message"] = {"conversation": message["text"]}
            path = f"/webhooks/evolution/{DEMO_TENANT_ID}"
            headers = [("apikey", DEMO_SECRETS["evolution"]["apikey"])]
        request = HttpRequest(
            method="POST",
            raw_path=path,
            query_string="",
            headers=[("Content-Type", "application/json"), *headers],
            body=json.dumps(body).encode("utf-8"),
        )

        def deliver() -> None:
            gateway = self.gateway
            if gateway is not None and not self._stopped.is_set():
                gateway.handle(request)

        threading.Thread(target=deliver, name="whatsapp-echo", daemon=True).start()

    def _assign_demo_number(self, seed: SeedReport) -> None:
        """Assign the demo number through the provisioning admin API (its own code path:
        claim, then the worker ensures the SIP trunk and dispatch rule)."""
        path = f"/v1/tenants/{seed.tenant_id}/phone-numbers"
        request = HttpRequest(
            method="POST",
            raw_path=path,
            query_string="",
            headers=[
                ("Authorization", f"Bearer {self._token}"),
                ("Content-Type", "application/json"),
            ],
            body=json.dumps({"number": seed.phone_number}).encode("utf-8"),
        )
        assert self.gateway is not None
        response = self.gateway.handle(request)
        if response.status < 300:
            seed.phone = f"{seed.phone_number} (assigned; SIP trunk provisioned by the worker)"
        else:
            seed.notes.append(
                f"phone number not assigned: POST {path} answered {response.status} "
                f"{response.body[:200].decode('utf-8', 'replace')}"
            )

    def _start_pumps(self) -> None:
        assert self.resources is not None
        for spec in self.functions:
            for trigger in spec.queues:
                name = spec.name
                self.pumps.pumps.append(
                    QueuePump(
                        function=spec,
                        trigger=trigger,
                        queue=self.resources.queues[trigger.queue.value],
                        invoke=lambda name=name: self.registry.load(name),  # type: ignore[misc]
                        wait_seconds=self.settings.pump_wait_seconds,
                        prefix=self.settings.resource_prefix,
                    )
                )
        self.pumps.start()

    def _write_state(self) -> None:
        assert self.info is not None
        path: Path = self.settings.state_file
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(self.info.as_dict(), indent=2, default=str))
        temporary.chmod(0o600)  # it holds the admin token and the demo secrets
        temporary.replace(path)

    # -- local endpoints -------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        moto_ok = True
        moto_error = None
        try:
            client("sqs").list_queues(MaxResults=1)
        except Exception as exc:
            moto_ok, moto_error = False, f"{type(exc).__name__}: {exc}"
        pumps = {
            pump.name: {
                "running": pump.running,
                "batches": pump.stats.batches,
                "deleted": pump.stats.deleted,
                "failed": pump.stats.failed,
                "last_error": pump.stats.last_error,
            }
            for pump in self.pumps.pumps
        }
        functions = {
            name: {"importable": state.importable, "error": state.error}
            for name, state in self.registry.states().items()
        }
        scheduler_ok = self.scheduler is not None and self.scheduler.running
        pumps_ok = all(p["running"] for p in pumps.values())
        healthy = moto_ok and pumps_ok and scheduler_ok
        broken = sorted(n for n, f in functions.items() if not f["importable"])
        livekit = self.info.livekit.mode if self.info else "offline"
        return healthy, {
            "status": ("degraded" if broken else "ok") if healthy else "failing",
            "components": {
                "moto": {"ok": moto_ok, "error": moto_error},
                "pumps": pumps,
                "scheduler": {
                    "running": scheduler_ok,
                    "schedules": [
                        {"function": f.name, "schedule": s.name, "expression": s.expression}
                        for f, s in (self.scheduler.scheduled if self.scheduler else [])
                    ],
                },
                "functions": functions,
                "livekit": livekit,
            },
            "broken_functions": broken,
            "seed_error": self.seed_error,
        }

    def trigger(self, function: str, schedule: str | None) -> dict[str, Any]:
        assert self.scheduler is not None
        if function not in self.registry.specs:
            raise LookupError(f"no function named {function!r}")
        result = self.scheduler.fire(function, schedule)
        return {
            "function": result.function,
            "schedule": result.schedule,
            "ok": result.ok,
            "result": result.result,
            "error": result.error,
        }

    def queues(self) -> list[dict[str, Any]]:
        return [
            q.as_dict() for q in list_queues(client("sqs"), prefix=self.settings.resource_prefix)
        ]

    def peek(self, queue: str) -> list[dict[str, Any]]:
        sqs = client("sqs")
        infos = list_queues(sqs, prefix=self.settings.resource_prefix)
        return peek_dlq(sqs, find_queue(infos, queue))

    def replay(self, queue: str) -> dict[str, Any]:
        sqs = client("sqs")
        info = find_queue(list_queues(sqs, prefix=self.settings.resource_prefix), queue)
        # moto has no StartMessageMoveTask: move the messages ourselves.
        return move_messages(sqs, info).as_dict()

    # -- stop ----------------------------------------------------------------------------

    def stop(self) -> None:
        if self._stopped.is_set():
            return
        self._stopped.set()
        if self.server is not None:
            self.server.stop()
        self.pumps.stop()
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.fake_livekit is not None:
            self.fake_livekit.stop()
        if self.media_stack is not None:
            self.media_stack.stop()
        if self.fake_whatsapp is not None:
            self.fake_whatsapp.stop()
        if self.moto is not None:
            self.moto.stop()
        self._remove_state()

    def _remove_state(self) -> None:
        """Remove the state file if it is ours (another run may share the directory)."""
        path = self.settings.state_file
        try:
            if json.loads(path.read_text()).get("pid") == os.getpid():
                path.unlink()
        except (OSError, ValueError):
            pass
