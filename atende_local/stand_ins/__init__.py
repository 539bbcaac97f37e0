"""Local, contract-faithful stand-ins for the providers the voice agent calls.

Use them from Python (tests, the real-call test) with :func:`start_all`::

    from atende_local.stand_ins import start_all
    from atende_local.stand_ins.policy import Rule, ScriptedPolicy

    policy = ScriptedPolicy(rules=[Rule(r"coke", calls=(("add_item", {"item_id": "coke"}),))])
    with start_all(policy=policy, phrases=["one coke please"]) as stand_ins:
        stand_ins.openai_url    # "http://127.0.0.1:<port>/v1": openai.LLM(base_url=...)
        stand_ins.deepgram_url  # "ws://127.0.0.1:<port>/v1/listen" → deepgram.STT(base_url=...)
        stand_ins.env()         # OPENAI_BASE_URL / _API_KEY, DEEPGRAM_BASE_URL / _API_KEY
        stand_ins.openai.fail("gpt-4o-mini")   # the primary LLM goes down mid-call
        stand_ins.deepgram.fail()              # Deepgram drops its sockets

or as a process: ``python -m atende_local.stand_ins --phrases phrases.txt --policy
policy.json`` prints the same URLs and variables as one JSON line and serves until stopped
(``POST <url>/_stand_in/fail`` and ``/_stand_in/recover`` control failures there).

Both servers run on their own event loop in a background thread, on loopback and free
ports (:mod:`atende_local.stand_ins.servers`). The package itself imports nothing heavy, so
:mod:`atende_local.stand_ins.databases` is usable where the agent's dependencies (aiohttp,
numpy) are not installed (the Lambda suites on the deployed runtime). Requirements:
Debian ``espeak-ng`` (speech synthesis) and PyPI ``pocketsphinx`` (recognition);
``atende_local/stand_ins/install.sh`` installs what is missing.
"""

from __future__ import annotations

from typing import Any

__all__ = ["LOCAL_KEY", "StandIns", "start_all"]


def __getattr__(name: str) -> Any:
    # Lazy: the servers need aiohttp and numpy (the agent's dependencies).
    if name in __all__:
        from atende_local.stand_ins import servers

        return getattr(servers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
