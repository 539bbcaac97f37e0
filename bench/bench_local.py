"""The local platform: start-up time, and the gateway's own overhead per request.

1. ``atende local run`` in a subprocess, from launch to ``/health`` 200 (median of 3),
   next to a bare interpreter start measured in the same run.
2. Gateway overhead: the same request N times over HTTP through the gateway, and N times
   straight into the handler in-process with the same API Gateway event (same moto, same
   process), interleaved in rounds (medians) so a shared machine's load hits both sides
   alike, for a real handler (tenant read from DynamoDB) and a trivial one (isolates the
   gateway). Printed as a ratio; only ratios travel between machines.

Run: ``python -m bench local`` (or ``make bench``). ``BENCH_REQUESTS`` (default 200).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from atende_local.apigw import HttpRequest, build_proxy_event, map_proxy_response
from atende_local.platform import LocalPlatform
from atende_local.runtime import context_for
from atende_local.settings import LocalSettings

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
STARTS = int(os.environ.get("BENCH_STARTS", "3"))
ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _startup_seconds() -> float:
    """Launch → /health 200 for one ``atende local run``; then Ctrl-C it."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as state:
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ATENDE_"))},
            "ATENDE_PORT": str(port),
            "ATENDE_ADMIN_TOKEN": "bench",
            "ATENDE_STATE_DIR": state,
        }
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "atende_local.cli", "local", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with httpx.Client(timeout=5) as http:
                while True:
                    if process.poll() is not None:
                        raise RuntimeError(f"platform exited with {process.returncode}")
                    try:
                        if http.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                            break
                    except httpx.TransportError:
                        pass
                    if time.perf_counter() - started > 120:
                        raise RuntimeError("platform not healthy within 120 s")
                    time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    return elapsed


def _bare_interpreter_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def _trivial_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": "{}"}


ROUNDS = 10


def _direct_call(platform: LocalPlatform, method: str, path: str, headers: dict[str, str]) -> Any:
    """A closure doing what a test harness does to call the handler: event, context, call."""
    assert platform.gateway is not None
    request = HttpRequest(
        method=method,
        raw_path=path,
        query_string="",
        headers=[("Host", "127.0.0.1"), *headers.items()],
        body=b"",
    )
    match = platform.gateway.routes.match(method, path)
    assert match is not None
    assert not isinstance(match, list)
    spec = match.entry.function
    handler = platform.registry.load(spec.name)

    def call() -> None:
        map_proxy_response(handler(build_proxy_event(request, match), context_for(spec)))

    return call


def _measure(
    platform: LocalPlatform, http: httpx.Client, method: str, path: str, headers: dict[str, str]
) -> tuple[float, float]:
    """Median per-request time over HTTP and in-process, interleaved in rounds so load
    changes on a shared machine hit both sides alike."""
    direct = _direct_call(platform, method, path, headers)

    def via_http() -> None:
        answer = http.request(method, path, headers=headers)
        assert answer.status_code < 400, answer.text

    for _ in range(10):  # warm-up: imports, connections, caches
        via_http()
        direct()
    per_round = max(1, REQUESTS // ROUNDS)
    http_times: list[float] = []
    direct_times: list[float] = []
    for _ in range(ROUNDS):
        for call, times in ((via_http, http_times), (direct, direct_times)):
            started = time.perf_counter()
            for _ in range(per_round):
                call()
            times.append((time.perf_counter() - started) / per_round)
    return statistics.median(http_times), statistics.median(direct_times)


def _overhead() -> list[tuple[str, float, float]]:
    with tempfile.TemporaryDirectory() as state:
        settings = LocalSettings(
            ATENDE_PORT=0,
            ATENDE_ADMIN_TOKEN="bench",
            ATENDE_STATE_DIR=state,
            ATENDE_PUMP_WAIT_SECONDS=1,
        )
        platform = LocalPlatform(settings)
        platform.registry.override("webhooks-ingress", _trivial_handler)
        platform.start()
        try:
            auth = {"Authorization": "Bearer bench"}
            cases = [
                (
                    "GET /v1/tenants/demo-pizzaria (DynamoDB read)",
                    "GET",
                    "/v1/tenants/demo-pizzaria",
                    auth,
                ),
                (
                    "POST /webhooks/zapi/... (trivial handler)",
                    "POST",
                    "/webhooks/zapi/demo-pizzaria",
                    {},
                ),
            ]
            results = []
            with httpx.Client(base_url=platform.url, timeout=30) as http:
                for label, method, path, headers in cases:
                    via_http, direct = _measure(platform, http, method, path, headers)
                    results.append((label, via_http, direct))
            return results
        finally:
            platform.stop()


def main() -> None:
    print(f"local platform: start-up (median of {STARTS}) and gateway overhead ({REQUESTS} req)")
    bare = statistics.median(_bare_interpreter_seconds() for _ in range(3))
    starts = [_startup_seconds() for _ in range(STARTS)]
    median = statistics.median(starts)
    print(
        f"  atende local run → /health 200: median {median:.2f} s "
        f"(runs: {', '.join(f'{s:.2f}' for s in starts)}); "
        f"bare interpreter start {bare * 1000:.0f} ms → x{median / bare:.1f}"
    )
    for label, via_http, direct in _overhead():
        print(
            f"  {label:<48} gateway {via_http * 1000:6.2f} ms  in-process {direct * 1000:6.2f} ms"
            f"  overhead {(via_http - direct) * 1000:5.2f} ms/req  ratio x{via_http / direct:.2f}"
        )
    print(json.dumps({"startup_median_s": round(median, 3)}))


if __name__ == "__main__":
    main()
