"""The restaurant console's first load over the local gateway, in Debian's Chromium.

1. Transferred bytes of a cold first load of ``/console/`` (fresh browser context, no
   cache): every response's encoded (compressed, on-the-wire) size including headers, from
   the DevTools protocol's ``Network.loadingFinished.encodedDataLength``; compared with the
   budget (300 KB) as a ratio. Then the board's first load after sign-in (config, Cognito
   and the first orders poll included).
2. Time to interactive: navigation start → the sign-in form usable (e-mail field focused),
   and sign-in click → the board rendered; medians of ``BENCH_LOADS`` cold loads, next to
   the same browser loading a bare same-origin document (``/console/config.json``) measured
   in the same run: printed as ratios (only ratios travel between machines).

Run: ``python -m bench console`` (needs ``make console``: the built console and chromium).
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
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("ATENDE_CHROMIUM", "/usr/bin/chromium")
LOADS = int(os.environ.get("BENCH_LOADS", "5"))
BUDGET_BYTES = 300 * 1024


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _platform(state: str) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "ATENDE_"))},
        "ATENDE_PORT": str(port),
        "ATENDE_ADMIN_TOKEN": "bench",
        "ATENDE_STATE_DIR": state,
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "atende_local.cli", "local", "run"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    with httpx.Client(timeout=5) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"platform exited with {process.returncode}")
            try:
                if http.get(f"{url}/health").status_code == 200:
                    return process, url
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("platform not healthy within 120 s")


def _cold_load(browser: Browser, url: str, user: dict[str, str]) -> dict[str, Any]:
    """One cold load: bytes and timings of the sign-in page, then of the board."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    transferred = {"bytes": 0, "requests": 0}

    def finished(event: dict[str, Any]) -> None:
        transferred["bytes"] += int(event.get("encodedDataLength", 0))
        transferred["requests"] += 1

    cdp.on("Network.loadingFinished", finished)
    page.goto(f"{url}/console/")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'email'")
    interactive_ms = float(page.evaluate("performance.now()"))
    page.wait_for_load_state("networkidle")
    first = dict(transferred)

    page.fill("#email", user["username"])
    page.fill("#password", user["password"])
    clicked = float(page.evaluate("performance.now()"))
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=column-new] h2 .count")
    board_ms = float(page.evaluate("performance.now()")) - clicked
    page.wait_for_load_state("networkidle")
    board_bytes = transferred["bytes"] - first["bytes"]
    context.close()
    return {
        "first_bytes": first["bytes"],
        "first_requests": first["requests"],
        "interactive_ms": interactive_ms,
        "board_ms": board_ms,
        "board_bytes": board_bytes,
    }


def _bare_document_ms(browser: Browser, url: str) -> float:
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{url}/console/config.json")
    value = float(page.evaluate("performance.now()"))
    context.close()
    return value


def main() -> None:
    if not Path(CHROMIUM).exists() or not (ROOT / "console" / "dist" / "index.html").exists():
        print("skipped: needs chromium and the built console (make console)")
        return
    with tempfile.TemporaryDirectory() as state:
        process, url = _platform(state)
        try:
            users = json.loads((Path(state) / "local.json").read_text())["console"]["users"]
            owner = next(u for u in users if u["role"] == "owner")
            with sync_playwright() as playwright:
                args = ["--no-sandbox"] if os.geteuid() == 0 else []
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
                _cold_load(browser, url, owner)  # warm the platform's handlers once
                loads, bare = [], []
                for _ in range(LOADS):  # interleaved: machine load hits both alike
                    loads.append(_cold_load(browser, url, owner))
                    bare.append(_bare_document_ms(browser, url))
                browser.close()
        finally:
            process.send_signal(signal.SIGINT)
            process.wait(30)
    first_bytes = statistics.median(x["first_bytes"] for x in loads)
    board_bytes = statistics.median(x["board_bytes"] for x in loads)
    interactive = statistics.median(x["interactive_ms"] for x in loads)
    board = statistics.median(x["board_ms"] for x in loads)
    baseline = statistics.median(bare)
    print(
        f"first load (sign-in page): {first_bytes / 1024:.1f} KB transferred compressed in "
        f"{loads[0]['first_requests']} requests; budget {BUDGET_BYTES // 1024} KB "
        f"-> {first_bytes / BUDGET_BYTES:.2f}x of budget"
    )
    print(f"board after sign-in: {board_bytes / 1024:.1f} KB more (Cognito, config, first poll)")
    print(
        f"time to interactive (sign-in form): {interactive:.0f} ms median of {LOADS}; bare "
        f"same-origin document {baseline:.0f} ms -> {interactive / baseline:.2f}x"
    )
    print(
        f"sign-in click -> board rendered: {board:.0f} ms median -> "
        f"{board / baseline:.2f}x the bare document"
    )


if __name__ == "__main__":
    main()
