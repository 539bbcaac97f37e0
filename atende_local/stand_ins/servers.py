"""The two stand-in servers run together: :func:`start_all` (see the package's docstring)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from aiohttp import web

from atende_local.stand_ins.deepgram_api import DeepgramStandIn
from atende_local.stand_ins.openai_api import OpenAIStandIn
from atende_local.stand_ins.policy import ScriptedPolicy
from atende_local.stand_ins.speech import recognizer_for

__all__ = ["LOCAL_KEY", "StandIns", "start_all"]

#: The key both stand-ins accept unless told otherwise (never a real key).
LOCAL_KEY = "stand-in-key"


@dataclass
class StandIns:
    openai: OpenAIStandIn
    deepgram: DeepgramStandIn
    openai_url: str = ""
    deepgram_url: str = ""
    _loop: asyncio.AbstractEventLoop = field(default_factory=asyncio.new_event_loop)
    _runners: list[web.AppRunner] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        """What points the real plugins (and the worker's settings) at the stand-ins."""
        return {
            "OPENAI_BASE_URL": self.openai_url,
            "OPENAI_API_KEY": self.openai.api_key or LOCAL_KEY,
            "DEEPGRAM_BASE_URL": self.deepgram_url,
            "DEEPGRAM_API_KEY": self.deepgram.api_key or LOCAL_KEY,
        }


async def _serve(app: web.Application, runners: list[web.AppRunner], host: str) -> int:
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    runners.append(runner)
    server = site._server
    assert server is not None
    return int(server.sockets[0].getsockname()[1])  # type: ignore[attr-defined]


@contextmanager
def start_all(
    *,
    policy: ScriptedPolicy | None = None,
    phrases: Iterable[str] = (),
    voice: str = "en-us",
    host: str = "127.0.0.1",
    api_key: str | None = None,
    idle_timeout: float = 10.0,
    recognizer: str = "auto",
) -> Iterator[StandIns]:
    """Start the OpenAI and Deepgram stand-ins; stop them on exit.

    ``phrases`` is what callers can say; ``voice`` the espeak-ng voice of the speech
    endpoint (and of the templates); ``recognizer`` picks how audio is transcribed
    (:func:`~atende_local.stand_ins.speech.recognizer_for`: ``sphinx`` for English,
    ``template`` for other languages and telephone-band audio).
    """
    phrases = list(phrases)
    transcriber = recognizer_for(phrases, voice=voice, kind=recognizer) if phrases else None
    stand_ins = StandIns(
        openai=OpenAIStandIn(policy=policy, recognizer=transcriber, voice=voice, api_key=api_key),
        deepgram=DeepgramStandIn(
            recognizer=transcriber, api_key=api_key, idle_timeout=idle_timeout
        ),
    )
    loop = stand_ins._loop
    thread = threading.Thread(target=loop.run_forever, name="stand-ins", daemon=True)
    thread.start()

    def run(coro: object) -> int:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=30)  # type: ignore[arg-type]

    try:
        openai_port = run(_serve(stand_ins.openai.app(), stand_ins._runners, host))
        deepgram_port = run(_serve(stand_ins.deepgram.app(), stand_ins._runners, host))
        stand_ins.openai_url = f"http://{host}:{openai_port}/v1"
        stand_ins.deepgram_url = f"ws://{host}:{deepgram_port}/v1/listen"
        yield stand_ins
    finally:

        async def stop() -> int:
            for runner in stand_ins._runners:
                await runner.cleanup()
            return 0

        try:
            run(stop())
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10)
            loop.close()
