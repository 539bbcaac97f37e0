"""Capacity of one agent worker: K concurrent real SIP calls, real VAD, one CPU core.

The real media stack (Redis, livekit-server, livekit-sip; ``atende_local/media/install.sh``),
the local platform wired to it (the demo number provisioned on the real server) and ONE
agent worker process (``python -m voice_fargate dev``, pinned to one core with ``taskset``
together with every job process it spawns) take K concurrent calls placed by one sipp
(``-m K -l K``, one new call every 2 s: a job's process spawn is not part of the
steady state measured). Each caller speaks three sentences (espeak-ng, pt-br) separated by
silences, so Silero VAD runs on real audio and ends real turns.

Per K it prints: CPU seconds and peak memory (RSS) of the worker's process tree per call,
and the agent's own per-turn overhead, p50 and p95: what the worker adds to a turn beyond
the configured endpointing wait and beyond the providers, i.e. the caller's
``end_of_turn_delay`` minus the endpointing ``min_delay``, plus
``on_user_turn_completed_delay`` (both from the framework's per-turn metrics the worker
logs). The largest K whose p95 stays at or under 50 ms is the one-core capacity that
``docs/cost-model.md`` uses.

Baseline: K=1 in the same run; ratios are against it. Skips (prints why) when the media
stack is not installed or tcpdump/taskset are missing. ``ATENDE_BENCH_CAPACITY_KS`` sets the
K values (default ``1,2,4,6,8``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from atende_local.fake_livekit import DEV_API_KEY, DEV_API_SECRET
from atende_local.media import caller
from atende_local.media import stack as media
from voice_fargate.pipeline import TURN_HANDLING

SENTENCES = (
    "boa noite, eu quero uma pizza de calabresa grande",
    "e também uma coca cola de dois litros",
    "vou buscar no balcão, obrigado",
)
GAP_SECONDS = 3.0
LEAD_SECONDS = 4.0
MIN_DELAY = float(TURN_HANDLING["endpointing"]["min_delay"])
BUDGET_MS = 50.0


def _audio(path: Path) -> float:
    """The caller's side of a call: three sentences with pauses; returns its length (s)."""
    parts = []
    for index, sentence in enumerate(SENTENCES):
        part = path.with_name(f"part{index}.ulaw")
        caller.caller_audio(
            sentence,
            part,
            lead_seconds=LEAD_SECONDS if index == 0 else 0.0,
            tail_seconds=GAP_SECONDS,
        )
        parts.append(part.read_bytes())
    path.write_bytes(b"".join(parts))
    return len(path.read_bytes()) / caller.SAMPLE_RATE


class TreeSampler:
    """CPU seconds and peak RSS of a process and all its descendants, sampled."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_rss = 0
        self._cpu: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _tree(self) -> list[psutil.Process]:
        try:
            return [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return []

    def sample(self) -> None:
        rss = 0
        for proc in self._tree():
            try:
                times = proc.cpu_times()
                self._cpu[proc.pid] = times.user + times.system
                rss += proc.memory_info().rss
            except psutil.Error:
                continue
        self.peak_rss = max(self.peak_rss, rss)

    def cpu_seconds(self) -> float:
        return sum(self._cpu.values())

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.25)

    def __enter__(self) -> TreeSampler:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sample()


def _turns(log: Path, offset: int) -> list[dict[str, Any]]:
    """The caller-turn metrics the worker logged after byte ``offset``."""
    turns = []
    with log.open("rb") as handle:
        handle.seek(offset)
        for raw in handle:
            line = raw.decode(errors="replace").strip()
            if '"turn latency"' not in line or not line.startswith("{"):
                continue
            try:
                record = json.loads(line)
            except ValueError:
                continue
            # Powertools' line (the framework repeats the record with the job's fields)
            if record.get("role") == "user" and "location" in record and "pid" not in record:
                turns.append(record)
    return turns


def overhead_ms(turn: dict[str, Any]) -> float:
    late = max(0.0, float(turn.get("end_of_turn_delay", MIN_DELAY)) - MIN_DELAY)
    hook = float(turn.get("on_user_turn_completed_delay", 0.0))
    return (late + hook) * 1000.0


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_batch(world: Any, k: int, workdir: Path, audio: Path, seconds: float) -> dict[str, Any]:
    scenario = caller.scenario(
        workdir / f"k{k}.xml", audio=audio, caller="+5511977770000", hold_seconds=seconds + 1
    )
    log = workdir / f"worker-k{k}.log"
    worker = _start_worker(world, log)
    argv = caller.sipp_argv(
        world["stack"].sip_address, scenario, number=world["number"], calls=k, rate=0.5
    )
    try:
        with TreeSampler(worker.pid) as sampler:
            before = sampler.cpu_seconds()
            run = caller.run_sipp(argv, workdir, timeout=seconds + 120)
            time.sleep(3)  # let the jobs finish and log their last turns
    finally:
        _stop_worker(worker)
    turns = _turns(log, 0)
    overheads = [overhead_ms(t) for t in turns]
    return {
        "k": k,
        "ok": run.returncode == 0,
        "cpu_per_call": (sampler.cpu_seconds() - before) / k,
        "rss_mb": sampler.peak_rss / 1e6,
        "turns": len(turns),
        "p50": _p(overheads, 0.5),
        "p95": _p(overheads, 0.95),
    }


def _start_world(workdir: Path) -> dict[str, Any]:
    from tests.e2e.conftest import start_platform
    from tests.media.conftest import ALWAYS_OPEN, _active_numbers, wait_registered, worker_env

    gateway = media.free_tcp_port()
    stack = media.start(
        workdir / "stack",
        api_key=DEV_API_KEY,
        api_secret=DEV_API_SECRET,
        webhook_urls=[f"http://127.0.0.1:{gateway}/webhooks/livekit"],
    )
    (workdir / "platform").mkdir()
    platform = start_platform(
        workdir / "platform",
        port=gateway,
        LIVEKIT_URL=stack.http_url,
        LIVEKIT_API_KEY=stack.api_key,
        LIVEKIT_API_SECRET=stack.api_secret,
    )
    client = platform.client
    tenant = client.demo_tenant_id
    client.http.patch(
        f"/v1/tenants/{tenant}", json={"opening_hours": ALWAYS_OPEN}, headers=client.admin
    ).raise_for_status()
    numbers = client.wait_for(lambda: _active_numbers(client, tenant), timeout=60)
    return {
        "stack": stack,
        "platform": platform,
        "env": worker_env(stack, client),
        "number": numbers[0],
        "wait_registered": wait_registered,
    }


def _start_worker(world: dict[str, Any], log: Path) -> subprocess.Popen[bytes]:
    """A fresh worker per batch, pinned (with every job process it forks) to CPU 0."""
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                "taskset",
                "-c",
                "0",
                sys.executable,
                "-m",
                "voice_fargate",
                "dev",
                "--log-level",
                "info",
            ],
            env=world["env"],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    world["wait_registered"](log, worker)
    return worker


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    worker.terminate()
    try:
        worker.wait(30)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(10)


def main() -> None:
    missing = media.missing_tools() + [t for t in ("tcpdump", "taskset") if not shutil.which(t)]
    if missing:
        print(f"skipped: media stack not installed ({', '.join(missing)})")
        return
    ks = [int(k) for k in os.environ.get("ATENDE_BENCH_CAPACITY_KS", "1,2,4,6,8").split(",")]
    workdir = Path(tempfile.mkdtemp(prefix="bench-capacity-"))
    audio = workdir / "caller.ulaw"
    seconds = _audio(audio)
    world = _start_world(workdir)
    rows = []
    try:
        for k in ks:
            rows.append(run_batch(world, k, workdir, audio, seconds))
    finally:
        world["platform"].stop()
        world["stack"].stop()
    base = rows[0]
    print(f"one worker on one core, {seconds:.0f} s calls, 3 caller turns each")
    print(" K  ok  cpu s/call  (x K=1)  peak RSS MB  turns  overhead p50 ms  p95 ms")
    for row in rows:
        ratio = row["cpu_per_call"] / base["cpu_per_call"] if base["cpu_per_call"] else 0.0
        print(
            f"{row['k']:>2}  {'y' if row['ok'] else 'n':>2}  {row['cpu_per_call']:>10.2f}"
            f"  {ratio:>7.2f}  {row['rss_mb']:>11.0f}  {row['turns']:>5}"
            f"  {row['p50']:>15.1f}  {row['p95']:>6.1f}"
        )
    fitting = [r["k"] for r in rows if r["ok"] and r["turns"] and r["p95"] <= BUDGET_MS]
    print(
        f"largest K with overhead p95 <= {BUDGET_MS:.0f} ms on one core: "
        f"{max(fitting) if fitting else 'none measured'}"
    )
    print(f"(logs: {workdir})")


if __name__ == "__main__":
    main()
