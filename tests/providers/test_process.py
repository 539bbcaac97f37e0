"""``python -m atende_local.stand_ins``: the stand-ins as a process another test can start."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.stand_ins


def test_the_process_prints_its_urls_obeys_its_control_api_and_stops_on_sigterm(
    tmp_path: Path, stand_ins: object
) -> None:
    # Given a rule table and a phrase list on disk
    (tmp_path / "policy.json").write_text(
        json.dumps({"rules": [{"when": "cokes?", "calls": [["add_item", {"item_id": "coke"}]]}]})
    )
    (tmp_path / "phrases.txt").write_text("two cokes please\n")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "atende_local.stand_ins",
            "--policy",
            str(tmp_path / "policy.json"),
            "--phrases",
            str(tmp_path / "phrases.txt"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        # When it has started
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        headers = {"Authorization": f"Bearer {info['env']['OPENAI_API_KEY']}"}
        body = {
            "model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "two cokes please"}],
            "tools": [{"type": "function", "function": {"name": "add_item"}}],
        }
        chat = f"{info['openai_url']}/chat/completions"
        answered = httpx.post(chat, json=body, headers=headers).json()
        # Then it answers from the rule table, and fails when told to, until recovered
        [call] = answered["choices"][0]["message"]["tool_calls"]
        assert json.loads(call["function"]["arguments"]) == {"item_id": "coke"}
        httpx.post(f"{info['openai_control']}/fail", json={"model": "gpt-4o-mini", "status": 503})
        assert httpx.post(chat, json=body, headers=headers).status_code == 503
        httpx.post(f"{info['openai_control']}/recover")
        assert httpx.post(chat, json=body, headers=headers).status_code == 200
        assert info["env"]["DEEPGRAM_BASE_URL"].startswith("ws://127.0.0.1:")
    finally:
        process.send_signal(signal.SIGTERM)
        # And SIGTERM stops it cleanly
        assert process.wait(timeout=15) == 0
