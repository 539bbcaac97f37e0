"""The real media stack with the local platform and the real agent worker, once per session.

``media_stack`` (tests/conftest.py) runs Redis, livekit-server and livekit-sip; here the
local platform (``atende local run``, a subprocess) is started on the port the server's
webhooks were pointed at, with ``LIVEKIT_URL`` = the real server, so the demo number is
provisioned on it through the admin API and the worker; and the voice agent worker
(``python -m voice_fargate dev``) registers with the server and is dispatched by the
demo number's dispatch rule.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from atende_local.media.stack import MediaStack
from atende_shared.resources import EVENT_BUS_ENV, Bucket, Table, bucket_env, table_env
from tests.e2e.conftest import PlatformClient, start_platform

ROOT = Path(__file__).resolve().parents[2]
#: Every day, all day: the call must be admitted whatever time CI runs at.
ALWAYS_OPEN = [
    {"day": day, "opens": "00:00", "closes": "23:59"}
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
]


#: What the caller says in the speech test: words of pocketsphinx's bundled English
#: dictionary, so the local OpenAI stand-in's recogniser can hear it (it knows no Portuguese).
CALLER_PHRASE = "i would like two large pizzas please"
#: Asking for a person: the offline brain's transfer intent knows "person" (and "atendente").
TRANSFER_PHRASE = "i want to talk to a person please"
#: The restaurant's own phone, where "falar com um atendente" transfers the caller.
TRANSFER_NUMBER = "+551140000000"


@dataclass
class MediaWorld:
    stack: MediaStack
    platform: PlatformClient
    #: The agent worker's environment (the real LiveKit, moto, the speech stand-in).
    worker_env: dict[str, str]
    workdir: Path
    number: str
    #: The OpenAI stand-in (``atende_local.stand_ins``) when installed: speech in and out.
    stand_ins: Any = None

    @property
    def tenant_id(self) -> str:
        return self.platform.demo_tenant_id


def worker_env(
    stack: MediaStack, platform: PlatformClient, prefix: str = "atende-local"
) -> dict[str, str]:
    """The agent worker's environment: the real LiveKit, the platform's moto resources."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ATENDE_", "LIVEKIT_", "OPENAI_", "DEEPGRAM_", "POWERTOOLS_"))
    }
    env.update(
        {
            "LIVEKIT_URL": stack.ws_url,
            "LIVEKIT_API_KEY": stack.api_key,
            "LIVEKIT_API_SECRET": stack.api_secret,
            "AWS_ENDPOINT_URL": str(platform.state["aws_endpoint_url"]),
            "AWS_ACCESS_KEY_ID": "atende-local",
            "AWS_SECRET_ACCESS_KEY": "atende-local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "ATENDE_STAGE": "local",
            "ATENDE_AGENT_HEALTH_PORT": "0",
            "POWERTOOLS_SERVICE_NAME": "atende-voice",
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "PYTHONUNBUFFERED": "1",
            EVENT_BUS_ENV: f"{prefix}-bus",
        }
    )
    for table in Table:
        env[table_env(table)] = f"{prefix}-{table.value}"
    for bucket in Bucket:
        env[bucket_env(bucket)] = f"{prefix}-{bucket.value}"
    return env


@contextmanager
def speech_stand_ins() -> Iterator[Any]:
    """The local OpenAI stand-in (speech synthesis with espeak-ng, transcription with
    pocketsphinx) when it is installed, else None (the agent then has no STT/TTS). Its chat
    endpoint is made to fail, so the worker's LLM fallback chain lands on the offline brain."""
    try:
        from atende_local.stand_ins import start_all
        from atende_local.stand_ins.speech import pocketsphinx_available
    except ImportError:
        yield None
        return
    if not pocketsphinx_available():
        yield None
        return
    with start_all(phrases=[CALLER_PHRASE, TRANSFER_PHRASE], voice="pt-br") as stand_ins:
        stand_ins.openai.fail(None, endpoint="chat")
        yield stand_ins


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            # `dev`: the same worker, without the production load threshold (0.7 of the
            # machine's CPU), which a shared 2-core test machine exceeds at random and
            # which would leave the call ringing with no worker available.
            [sys.executable, "-m", "voice_fargate", "dev", "--log-level", "info"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def wait_registered(log: Path, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{log.read_text(errors='replace')[-3000:]}")
        if "registered worker" in log.read_text(errors="replace"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"the worker did not register:\n{log.read_text(errors='replace')[-3000:]}")


@pytest.fixture(scope="session")
def media_world(
    media_stack: MediaStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MediaWorld]:
    """Given the real stack, the local platform wired to it and the agent worker."""
    workdir = tmp_path_factory.mktemp("media-platform")
    speech = ExitStack()
    stand_ins = speech.enter_context(speech_stand_ins())
    running = start_platform(
        workdir,
        port=media_stack.gateway_port,
        ATENDE_LOCAL_VISIBILITY_TIMEOUT_SECONDS="2",
        LIVEKIT_URL=media_stack.http_url,
        LIVEKIT_API_KEY=media_stack.api_key,
        LIVEKIT_API_SECRET=media_stack.api_secret,
    )
    try:
        platform = running.client
        tenant = platform.demo_tenant_id
        answer = platform.http.patch(
            f"/v1/tenants/{tenant}", json={"opening_hours": ALWAYS_OPEN}, headers=platform.admin
        )
        assert answer.status_code == 200, answer.text
        agent = platform.http.get(f"/v1/tenants/{tenant}/agent", headers=platform.admin).json()
        agent = {k: v for k, v in agent.items() if k != "tenant_id"}
        agent["transfer_number"] = TRANSFER_NUMBER
        answer = platform.http.put(
            f"/v1/tenants/{tenant}/agent", json=agent, headers=platform.admin
        )
        assert answer.status_code == 200, answer.text
        numbers = platform.wait_for(lambda: _active_numbers(platform, tenant), timeout=60)
        env = worker_env(media_stack, platform)
        if stand_ins is not None:  # OpenAI only: its transcription behind VAD is the STT
            env["OPENAI_API_KEY"] = stand_ins.env()["OPENAI_API_KEY"]
            env["OPENAI_BASE_URL"] = stand_ins.openai_url
        yield MediaWorld(media_stack, platform, env, workdir, numbers[0], stand_ins)
    finally:
        running.stop()
        speech.close()


def _active_numbers(platform: PlatformClient, tenant: str) -> list[str] | None:
    answer = platform.http.get(f"/v1/tenants/{tenant}/phone-numbers", headers=platform.admin)
    items: list[dict[str, Any]] = (
        answer.json().get("items", []) if answer.status_code == 200 else []
    )
    active = [str(i["number"]) for i in items if i.get("status") == "active"]
    return active or None


@pytest.fixture(scope="module")
def agent_worker(media_world: MediaWorld, request: pytest.FixtureRequest) -> Iterator[Path]:
    """Given the agent worker registered with the real server, one per test module (each
    module's calls start from a fresh worker); yields its log file."""
    log = media_world.workdir / f"worker-{request.module.__name__.rsplit('.', 1)[-1]}.log"
    worker = start_worker(media_world.worker_env, log)
    try:
        wait_registered(log, worker)
        yield log
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
            try:
                worker.wait(20)
            except subprocess.TimeoutExpired:
                worker.kill()
