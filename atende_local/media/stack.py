"""Start the real media stack on loopback: Redis, livekit-server and livekit-sip.

The binaries come from :mod:`atende_local.media.install` (``install.sh``), built into the
project's tool directory (``.atende/tools/bin``). Every port is picked free on 127.0.0.1;
the server's webhooks go to the URLs given (the local gateway's ``/webhooks/livekit``),
signed with the same API key/secret the platform verifies with.

Used by the media tests (one stack per test session), ``bench/bench_capacity.py`` and
``atende local run --media real`` (``ATENDE_MEDIA=real``).
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = Path(__file__).with_name("install.sh")
STARTUP_TIMEOUT_SECONDS = 30.0


def tools_bin() -> Path:
    """Where ``install.sh`` puts the binaries (``ATENDE_TOOLS_DIR``/bin)."""
    return Path(os.environ.get("ATENDE_TOOLS_DIR") or ROOT / ".atende" / "tools") / "bin"


def missing_tools() -> list[str]:
    """The media tools that are not installed (empty: the stack can start)."""
    missing = [
        name for name in ("livekit-server", "livekit-sip") if not (tools_bin() / name).is_file()
    ]
    missing += [
        name
        for name in ("redis-server", "sipp", "espeak-ng", "sox", "tcpdump")
        if shutil.which(name) is None
    ]
    return missing


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def free_port_both() -> int:
    """A port free for TCP and UDP on 127.0.0.1 (SIP listens on both)."""
    for _ in range(50):
        port = free_udp_port()
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                probe.bind(("127.0.0.1", port))
        except OSError:
            continue
        return port
    raise RuntimeError("no port free for both TCP and UDP")


def free_udp_range(size: int) -> tuple[int, int]:
    """A run of ``size`` UDP ports that are free now (RTP media for the SIP service)."""
    for _ in range(200):
        start = random.randrange(20_000, 45_000, 2)  # noqa: S311 - not security relevant
        socks: list[socket.socket] = []
        try:
            for port in range(start, start + size):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return start, start + size - 1
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError(f"no free run of {size} UDP ports")


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"


@dataclass
class MediaStack:
    """A running Redis + livekit-server + livekit-sip, all on 127.0.0.1."""

    workdir: Path
    api_key: str
    api_secret: str
    redis_port: int
    livekit_port: int
    sip_port: int
    rtp_range: tuple[int, int]
    webhook_urls: list[str]
    #: The local gateway's port the webhooks go to, when the caller reserved one.
    gateway_port: int | None = None
    processes: list[Process] = field(default_factory=list)

    @property
    def http_url(self) -> str:
        """The server API (Twirp) and signalling URL, for ``livekit-api``."""
        return f"http://127.0.0.1:{self.livekit_port}"

    @property
    def ws_url(self) -> str:
        """The signalling URL for SDK clients and agent workers."""
        return f"ws://127.0.0.1:{self.livekit_port}"

    @property
    def sip_address(self) -> str:
        """Where callers send their INVITEs (UDP and TCP)."""
        return f"127.0.0.1:{self.sip_port}"

    def env(self) -> dict[str, str]:
        """The environment a platform or an agent worker needs to use this stack."""
        return {
            "LIVEKIT_URL": self.ws_url,
            "LIVEKIT_API_KEY": self.api_key,
            "LIVEKIT_API_SECRET": self.api_secret,
        }

    def logs(self) -> str:
        return "\n".join(f"--- {p.name} ({p.log})\n{p.tail()}" for p in self.processes)

    def check_alive(self) -> None:
        for proc in self.processes:
            if proc.popen.poll() is not None:
                raise RuntimeError(
                    f"{proc.name} exited with {proc.popen.returncode}:\n{proc.tail()}"
                )

    def stop(self) -> None:
        """Stop in reverse order: SIGTERM, then SIGKILL after a grace period."""
        for proc in reversed(self.processes):
            if proc.popen.poll() is None:
                proc.popen.terminate()
        for proc in reversed(self.processes):
            try:
                proc.popen.wait(10)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait(5)
        self.processes.clear()


def _server_config(stack: MediaStack, rtc_tcp: int, rtc_udp: int) -> str:
    webhook = ""
    if stack.webhook_urls:
        urls = "\n".join(f"    - {u}" for u in stack.webhook_urls)
        webhook = f"webhook:\n  api_key: {stack.api_key}\n  urls:\n{urls}\n"
    return (
        f"port: {stack.livekit_port}\n"
        "bind_addresses: [127.0.0.1]\n"
        "development: true\n"
        f"redis:\n  address: 127.0.0.1:{stack.redis_port}\n"
        "rtc:\n"
        f"  tcp_port: {rtc_tcp}\n"
        f"  udp_port: {rtc_udp}\n"
        "  use_external_ip: false\n"
        "  node_ip: 127.0.0.1\n"
        "  enable_loopback_candidate: true\n"
        "room:\n  empty_timeout: 20\n  departure_timeout: 5\n"
        # The server dispatches a job only to a worker whose reported load (the machine's
        # CPU use) is under target_load (default 0.7: "no servers available" otherwise);
        # on a shared test machine that refuses calls at random, so it is lifted here.
        "agents:\n  target_load: 1.5\n"
        f"keys:\n  {stack.api_key}: {stack.api_secret}\n"
        "logging:\n  level: info\n"
        f"{webhook}"
    )


def _sip_config(stack: MediaStack) -> str:
    start, end = stack.rtp_range
    return (
        f"api_key: {stack.api_key}\n"
        f"api_secret: {stack.api_secret}\n"
        f"ws_url: {stack.ws_url}\n"
        f"redis:\n  address: 127.0.0.1:{stack.redis_port}\n"
        f"sip_port: {stack.sip_port}\n"
        f"rtp_port: {start}-{end}\n"
        "use_external_ip: false\n"
        "nat_1_to_1_ip: 127.0.0.1\n"
        "media_nat_1_to_1_ip: 127.0.0.1\n"
        "listen_ip: 127.0.0.1\n"
        "health_port: 0\n"
        # The machine is shared: do not refuse calls because other work loads the CPU.
        "max_cpu_utilization: 1.0\n"
        "logging:\n  level: info\n"
    )


def _spawn(name: str, argv: Sequence[str], workdir: Path, env: dict[str, str]) -> Process:
    log = workdir / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(  # noqa: S603 - our own binaries, argv list
            list(argv),
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=workdir,
            env=env,
            start_new_session=True,
        )
    return Process(name, popen, log)


def _wait(stack: MediaStack, what: str, probe: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stack.check_alive()
        try:
            if probe():  # type: ignore[operator]
                return
        except (OSError, httpx.HTTPError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready within {timeout} s:\n{stack.logs()}")


def _redis_ready(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
        conn.sendall(b"PING\r\n")
        return conn.recv(16).startswith(b"+PONG")


def _sip_ready(stack: MediaStack) -> bool:
    """livekit-sip answers an OPTIONS on its TCP listener once it serves calls."""
    with socket.create_connection(("127.0.0.1", stack.sip_port), timeout=1) as conn:
        request = (
            f"OPTIONS sip:probe@127.0.0.1:{stack.sip_port} SIP/2.0\r\n"
            "Via: SIP/2.0/TCP 127.0.0.1:9;branch=z9hG4bKprobe1\r\n"
            "From: <sip:probe@127.0.0.1>;tag=p1\r\nTo: <sip:probe@127.0.0.1>\r\n"
            "Call-ID: atende-probe\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        conn.sendall(request.encode())
        conn.settimeout(2)
        return conn.recv(64).startswith(b"SIP/2.0")


def start(
    workdir: Path,
    *,
    api_key: str,
    api_secret: str,
    webhook_urls: Sequence[str] = (),
    with_sip: bool = True,
    timeout: float = STARTUP_TIMEOUT_SECONDS,
) -> MediaStack:
    """Start Redis, livekit-server (and livekit-sip) on free loopback ports; wait healthy."""
    missing = missing_tools()
    if missing:
        raise RuntimeError(
            f"media tools missing: {', '.join(missing)} (run atende_local/media/install.sh)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    stack = MediaStack(
        workdir=workdir,
        api_key=api_key,
        api_secret=api_secret,
        redis_port=free_tcp_port(),
        livekit_port=free_tcp_port(),
        sip_port=free_port_both(),
        rtp_range=free_udp_range(200),
        webhook_urls=list(webhook_urls),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEKIT_")}
    try:
        stack.processes.append(
            _spawn(
                "redis",
                [
                    "redis-server",
                    "--port",
                    str(stack.redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(workdir),
                ],
                workdir,
                env,
            )
        )
        _wait(stack, "redis", lambda: _redis_ready(stack.redis_port), timeout)
        config = workdir / "livekit.yaml"
        config.write_text(_server_config(stack, free_tcp_port(), free_udp_port()))
        stack.processes.append(
            _spawn(
                "livekit-server",
                [str(tools_bin() / "livekit-server"), "--config", str(config)],
                workdir,
                env,
            )
        )
        _wait(
            stack,
            "livekit-server",
            lambda: httpx.get(stack.http_url, timeout=1).status_code == 200,
            timeout,
        )
        if with_sip:
            sip_config = workdir / "sip.yaml"
            sip_config.write_text(_sip_config(stack))
            stack.processes.append(
                _spawn(
                    "livekit-sip",
                    [str(tools_bin() / "livekit-sip"), "--config", str(sip_config)],
                    workdir,
                    env,
                )
            )
            _wait(stack, "livekit-sip", lambda: _sip_ready(stack), timeout)
    except BaseException:
        stack.stop()
        raise
    return stack
