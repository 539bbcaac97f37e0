"""Voice agent benchmark: the agent's own latency overhead, start-up time and memory.

0. **The ordering core alone** on a 5,000-item menu (every pizza with sizes, two modifier
   groups and up to three flavours): index build time and per-utterance cost of the
   understanding, tools and pricing (p50/p95).
1. **Per-turn overhead.** The real ``AgentSession`` runs its full audio path — audio in →
   VAD → STT → end of turn → LLM (the offline brain and the real tools) → TTS → audio out —
   with fake providers of fixed, known delays (:mod:`atende_local.voice_fakes`) and fake audio
   I/O paced in real time. Per turn: end of the caller's utterance (last loud frame) →
   first audio frame of the reply, minus the injected delays (VAD silence + each LLM
   request's TTFT + TTS TTFB) = what the framework and our code add. p50/p95 over
   ``--turns`` turns, and the ratio measured / injected.
2. **Worker start-up and memory.** A fresh interpreter imports the worker, validates the
   settings, builds the ``AgentServer`` and runs the per-process prewarm (Silero VAD),
   against a bare interpreter measured in the same run.

Run: ``.venv/bin/python -m bench.bench_voice [--turns 30] [--json]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from typing import Any

VAD_SILENCE = 0.25
STT_FINAL = 0.15  # < VAD_SILENCE: the VAD decides the end of the turn
LLM_TTFT = 0.20
TTS_TTFB = 0.15

UTTERANCES = [
    "quero duas pizzas de calabresa grandes",
    "e três cocas",
    "na verdade, sem coca",
    "hmm",
    "uma grande meio calabresa meio portuguesa com borda de catupiri, sem cebola",
    "mais uma margherita broto com bacon",
    "tira uma calabresa",
    "troca a margherita pela quatro queijos",
    "uma de frango grande",
    "quero uma lasanha",
    "cancela tudo",
]
#: The demo pizzeria's menu padded to this many items, every pizza with sizes, two modifier
#: groups and up to three flavours (the issue's worst case for matching and pricing).
MENU_ITEMS = 5_000


def big_menu(items: int = MENU_ITEMS) -> Any:
    """The demo menu plus generated pizzas (sizes, modifiers, flavours) and drinks."""
    from atende_local.seed import demo_menu
    from atende_shared.models.menu import Menu

    demo = demo_menu()
    template = next(i for i in demo.items if i.item_id == "pizza-margherita")
    words = [
        "napolitana", "toscana", "siciliana", "rucula", "palmito", "atum", "lombo",
        "escarola", "brocolis", "alho", "milho", "bacon", "cheddar", "peru", "abobrinha",
    ]  # fmt: skip
    generated = []
    for n in range(items - len(demo.items)):
        a, b = words[n % len(words)], words[(n // len(words)) % len(words)]
        generated.append(
            template.model_copy(
                update={
                    "item_id": f"gen-{n}",
                    "name": f"Especial {a} {b} {n}",
                    "aliases": [f"{a} {b} {n}"],
                    "category": f"Linha {n % 40}",
                    "price_cents": 3_000 + (n * 37) % 5_000,
                }
            )
        )
    return Menu(items=[*demo.items, *generated], modifier_groups=demo.modifier_groups)


def _core_turns(menu: Any, turns: int) -> dict[str, Any]:
    """The ordering core alone (understanding, tools, pricing) per utterance, no audio."""
    from atende_local.seed import demo_agent_config, demo_tenant
    from atende_shared.ordering.catalog import MenuIndex
    from atende_shared.ordering.dialogue import respond
    from atende_shared.ordering.state import OrderState

    class _Publisher:
        def publish(self, events: Any) -> None:
            pass

    started = time.perf_counter()
    index = MenuIndex(menu)
    index_ms = (time.perf_counter() - started) * 1000
    state = OrderState(
        tenant=demo_tenant(), agent_config=demo_agent_config(), menu=menu, _index=index
    )
    times = []

    async def go() -> None:
        for i in range(turns):
            t0 = time.perf_counter()
            await respond(state, UTTERANCES[i % len(UTTERANCES)], publisher=_Publisher())
            times.append(time.perf_counter() - t0)

    asyncio.run(go())
    return {
        "menu_items": len(menu.items),
        "index_build_ms": round(index_ms, 1),
        "core_turn_p50_ms": round(_percentile(times, 0.5) * 1000, 2),
        "core_turn_p95_ms": round(_percentile(times, 0.95) * 1000, 2),
    }


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = (len(ordered) - 1) * q
    low, high = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


async def _pipeline(turns: int) -> dict[str, Any]:
    from atende_local.seed import demo_agent_config, demo_tenant
    from atende_local.voice_fakes import DelayedLLM, FakeCaller, FakeSTT, FakeTTS, FakeVAD
    from atende_shared.ordering.catalog import MenuIndex
    from tests.voice.conftest import make_state  # the tests' fake services and menu
    from voice_fargate.brain import OfflineBrain
    from voice_fargate.pipeline import TURN_HANDLING
    from voice_fargate.session import agent_for, new_session

    menu = big_menu()
    state = make_state(lang="pt-BR", menu=menu, tenant=demo_tenant(), config=demo_agent_config())
    state._index = MenuIndex(menu)  # built once per tenant by the worker's cache, not per call
    script = [UTTERANCES[i % len(UTTERANCES)] for i in range(turns)]
    caller = FakeCaller(script)
    model = DelayedLLM(OfflineBrain(state), ttft=LLM_TTFT)
    handling = {
        **TURN_HANDLING,
        # No extra endpointing wait and no preemptive start: the VAD's silence is the whole
        # end-of-turn delay, so the injected total is exact.
        "endpointing": {"min_delay": 0.0, "max_delay": 2.0},
        "preemptive_generation": {"enabled": False},
    }
    session = new_session(
        state,
        llm_model=model,
        stt_model=FakeSTT(caller.transcripts, final_delay=STT_FINAL),
        tts_model=FakeTTS(ttfb=TTS_TTFB),
        vad_model=FakeVAD(silence_seconds=VAD_SILENCE),
        turn_handling=handling,
    )
    session.input.audio = caller.audio_in
    session.output.audio = caller.audio_out
    async with session:
        await session.start(agent_for(state))
        timings = await caller.run(session, llm_model=model)
        framework_e2e = [
            float(m.metrics["e2e_latency"])
            for m in session.history.messages()
            if m.role == "assistant" and m.metrics and "e2e_latency" in m.metrics
        ]
    measured, overhead, ratios, missing = [], [], [], 0
    for timing in timings:
        if timing.latency is None or timing.llm_requests == 0:
            missing += 1
            continue
        injected = VAD_SILENCE + timing.llm_requests * LLM_TTFT + TTS_TTFB
        measured.append(timing.latency)
        overhead.append(timing.latency - injected)
        ratios.append(timing.latency / injected)
    return {
        "turns": turns,
        "turns_measured": len(measured),
        "turns_without_reply": missing,
        "injected": {
            "vad_silence": VAD_SILENCE,
            "stt_final": STT_FINAL,
            "llm_ttft": LLM_TTFT,
            "tts_ttfb": TTS_TTFB,
        },
        "latency_p50_ms": round(_percentile(measured, 0.5) * 1000, 1),
        "latency_p95_ms": round(_percentile(measured, 0.95) * 1000, 1),
        "overhead_p50_ms": round(_percentile(overhead, 0.5) * 1000, 1),
        "overhead_p95_ms": round(_percentile(overhead, 0.95) * 1000, 1),
        "overhead_max_ms": round(max(overhead, default=float("nan")) * 1000, 1),
        "measured_over_injected_p50": round(_percentile(ratios, 0.5), 3),
        "framework_e2e_latency_p50_ms": round(_percentile(framework_e2e, 0.5) * 1000, 1),
    }


_STARTUP = r"""
import time
t0 = time.perf_counter()
from types import SimpleNamespace
from atende_shared.settings import load_settings
from voice_fargate.settings import VoiceSettings
from voice_fargate.worker import build_server, prewarm
server = build_server(load_settings(VoiceSettings))
t_server = time.perf_counter()
prewarm(SimpleNamespace(userdata={}))
t_ready = time.perf_counter()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(f"{t_server - t0:.4f} {t_ready - t0:.4f} {int(hwm) / 1024:.1f}")
"""

_BARE = r"""
import time
t0 = time.perf_counter()
hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM:")][0].split()[1]
print(f"0 {time.perf_counter() - t0:.4f} {int(hwm) / 1024:.1f}")
"""


def _run_python(code: str, env: dict[str, str]) -> tuple[float, float, float, float]:
    started = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    wall = time.perf_counter() - started
    return float(out[0]), float(out[1]), float(out[2]), wall


def _startup() -> dict[str, Any]:
    env = {
        **os.environ,
        "ATENDE_MAIN_TABLE": "bench-main",
        "ATENDE_IDEMPOTENCY_TABLE": "bench-idempotency",
        "ATENDE_EVENT_BUS": "bench-bus",
        "ATENDE_ARTIFACTS_BUCKET": "bench-artifacts",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
        "PYTHONPATH": os.pathsep.join([os.getcwd(), os.path.join(os.getcwd(), "layers")]),
    }
    bare = _run_python(_BARE, env)
    worker = _run_python(_STARTUP, env)
    return {
        "bare_python_wall_ms": round(bare[3] * 1000, 1),
        "bare_python_rss_mb": bare[2],
        "worker_server_built_ms": round(worker[0] * 1000, 1),
        "worker_ready_ms": round(worker[1] * 1000, 1),
        "worker_process_wall_ms": round(worker[3] * 1000, 1),
        "worker_rss_mb": worker[2],
        "startup_ratio_vs_bare": round(worker[3] / bare[3], 1),
        "memory_ratio_vs_bare": round(worker[2] / bare[2], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=30)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args([] if argv is None else argv)  # the bench runner passes none
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
    results = {
        "core": _core_turns(big_menu(), 200),
        "pipeline": asyncio.run(_pipeline(args.turns)),
        "startup": _startup(),
    }
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    c, p, s = results["core"], results["pipeline"], results["startup"]
    lines = [
        f"ordering core on a {c['menu_items']}-item menu with modifiers and flavours",
        f"  index built in {c['index_build_ms']} ms; per utterance p50 {c['core_turn_p50_ms']} ms"
        f"  p95 {c['core_turn_p95_ms']} ms",
        "voice agent: end of utterance -> first audio frame (fake providers, real session,"
        f" {c['menu_items']}-item menu; goal p95 overhead <= 30 ms)",
        f"  injected per turn: VAD {VAD_SILENCE * 1000:.0f} ms"
        f" + LLM TTFT {LLM_TTFT * 1000:.0f} ms x requests + TTS TTFB {TTS_TTFB * 1000:.0f} ms",
        f"  turns measured {p['turns_measured']}/{p['turns']}",
        f"  latency  p50 {p['latency_p50_ms']} ms  p95 {p['latency_p95_ms']} ms",
        f"  overhead p50 {p['overhead_p50_ms']} ms  p95 {p['overhead_p95_ms']} ms"
        f"  (max {p['overhead_max_ms']} ms)",
        f"  measured / injected p50: {p['measured_over_injected_p50']}x",
        f"  framework e2e_latency p50: {p['framework_e2e_latency_p50_ms']} ms",
        "worker start-up (import + settings + AgentServer + Silero prewarm)",
        f"  ready in {s['worker_ready_ms']} ms (process {s['worker_process_wall_ms']} ms,"
        f" bare python {s['bare_python_wall_ms']} ms: {s['startup_ratio_vs_bare']}x)",
        f"  peak RSS {s['worker_rss_mb']} MB"
        f" (bare python {s['bare_python_rss_mb']} MB: {s['memory_ratio_vs_bare']}x)",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
