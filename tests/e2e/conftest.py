"""The local platform in a subprocess, driven over HTTP only (``atende local run``).

One platform per test session (start-up is the expensive part); tests get a small client
with the base URL, the admin token and the demo tenant's secrets, read from the state
file the platform writes (``$ATENDE_STATE_DIR/local.json``). Stopping sends SIGINT, as
Ctrl-C does, and the fixture asserts the process exited cleanly on its own.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

T = TypeVar("T")

STARTUP_TIMEOUT_SECONDS = 90.0
STOP_TIMEOUT_SECONDS = 30.0
#: Retries and redrive in seconds instead of minutes (local-only knob, see the docs).
VISIBILITY_TIMEOUT_SECONDS = 2


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PlatformClient:
    """What a test needs to talk to the running platform."""

    base_url: str
    token: str
    state: dict[str, Any]
    http: httpx.Client = field(repr=False)

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    @property
    def demo_tenant_id(self) -> str:
        return str(self.state["seed"]["tenant_id"])

    @property
    def demo_secrets(self) -> dict[str, dict[str, str]]:
        return dict(self.state["seed"]["secrets"])

    @property
    def livekit(self) -> dict[str, str]:
        return dict(self.state["livekit"])

    def livekit_webhook(
        self, event: dict[str, Any], *, secret: str | None = None
    ) -> httpx.Response:
        """POST ``event`` to /webhooks/livekit signed as LiveKit does (raw JWT whose
        ``sha256`` claim is the body's digest), with the platform's LiveKit dev key."""
        from livekit.api import AccessToken

        body = json.dumps(event).encode("utf-8")
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")
        token = (
            AccessToken(self.livekit["api_key"], secret or self.livekit["api_secret"])
            .with_sha256(digest)
            .with_ttl(timedelta(minutes=5))  # what LiveKit itself signs webhooks with
            .to_jwt()
        )
        return self.http.post(
            "/webhooks/livekit",
            content=body,
            headers={"Authorization": token, "Content-Type": "application/webhook+json"},
        )

    def queues(self) -> dict[str, dict[str, Any]]:
        """Every queue with its DLQ depth, keyed by the short name (``calls``...)."""
        answer = self.http.get("/_local/queues", headers=self.admin)
        answer.raise_for_status()
        prefix = "atende-local-"
        return {
            q["name"].removeprefix(prefix).removesuffix(".fifo"): q for q in answer.json()["queues"]
        }

    def wait_for(
        self, probe: Callable[[], T | None], *, timeout: float = 60.0, every: float = 0.5
    ) -> T:
        """Poll ``probe`` until it returns something truthy (or fail with the last value)."""
        deadline = time.monotonic() + timeout
        last: T | None = None
        while time.monotonic() < deadline:
            last = probe()
            if last:
                return last
            time.sleep(every)
        raise AssertionError(f"condition not met within {timeout} s (last value: {last!r})")


def _tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no output)"


@dataclass
class RunningPlatform:
    """A started ``atende local run`` subprocess and how to reach it."""

    process: subprocess.Popen[bytes]
    client: PlatformClient
    workdir: Path

    @property
    def stderr(self) -> str:
        return _tail(self.workdir / "stderr.log")

    def stop(self, how: signal.Signals = signal.SIGINT) -> int:
        """Send ``how`` (Ctrl-C by default); kill and fail if it does not exit by itself."""
        self.client.http.close()
        if self.process.poll() is None:
            self.process.send_signal(how)
            try:
                self.process.wait(STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                pytest.fail(f"the platform ignored {how.name}:\n{self.stderr}")
        return int(self.process.returncode)


def start_platform(workdir: Path, *, port: int | None = None, **extra_env: str) -> RunningPlatform:
    """Start ``atende local run`` on ``port`` (default: a free one); wait for /health 200."""
    port = port or free_port()
    token = secrets.token_hex(16)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "ATENDE_", "LIVEKIT_", "POWERTOOLS_"))
    }
    env.update(
        {
            "ATENDE_PORT": str(port),
            "ATENDE_ADMIN_TOKEN": token,
            "ATENDE_STATE_DIR": str(workdir),
            "POWERTOOLS_LOG_LEVEL": "INFO",
            "PYTHONUNBUFFERED": "1",
            **extra_env,
        }
    )
    stdout, stderr = workdir / "stdout.log", workdir / "stderr.log"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "atende_local.cli", "local", "run"],
            env=env,
            stdout=out,
            stderr=err,
            cwd=Path(__file__).resolve().parents[2],
        )
    base_url = f"http://127.0.0.1:{port}"
    http = httpx.Client(base_url=base_url, timeout=30)
    running = RunningPlatform(
        process=process,
        client=PlatformClient(base_url=base_url, token=token, state={}, http=http),
        workdir=workdir,
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the platform exited with {process.returncode}:\n{running.stderr}")
        try:
            if http.get("/health").status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            running.stop()
            pytest.fail(f"/health not 200 within {STARTUP_TIMEOUT_SECONDS} s:\n{running.stderr}")
        time.sleep(0.2)
    running.client.state = json.loads((workdir / "local.json").read_text())
    return running


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PlatformClient]:
    """Given ``atende local run`` in a subprocess on a free port, healthy."""
    workdir = tmp_path_factory.mktemp("atende-local")
    running = start_platform(
        workdir,
        ATENDE_LOCAL_VISIBILITY_TIMEOUT_SECONDS=str(VISIBILITY_TIMEOUT_SECONDS),
        # Order-notification retries after 1, 2, 4... s instead of 30 s, 1 min... (orders).
        ATENDE_ORDERS_RETRY_BASE_SECONDS="1",
    )
    try:
        yield running.client
    finally:
        status = running.stop(signal.SIGINT)
    assert status == 0, f"exit status {status}:\n{running.stderr}"
    assert not (workdir / "local.json").exists(), "the state file outlived the platform"
