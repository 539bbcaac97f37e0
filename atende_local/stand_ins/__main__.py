"""``python -m atende_local.stand_ins``: serve the provider stand-ins until stopped.

Prints one JSON line (the URLs and the environment that points the agent at them), then
serves. ``--phrases`` is a file with one phrase per line (what the recogniser can hear);
``--policy`` a JSON rule table (:meth:`ScriptedPolicy.from_json`).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from atende_local.stand_ins import start_all
from atende_local.stand_ins.policy import ScriptedPolicy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m atende_local.stand_ins")
    parser.add_argument("--phrases", type=Path, help="one recognisable phrase per line")
    parser.add_argument("--policy", type=Path, help="JSON rule table for the chat stand-in")
    parser.add_argument("--voice", default="en-us", help="espeak-ng voice for /v1/audio/speech")
    parser.add_argument(
        "--recognizer",
        default="auto",
        choices=["auto", "sphinx", "template"],
        help="sphinx: pocketsphinx (English); template: espeak-ng renderings matched by DTW",
    )
    args = parser.parse_args(argv)
    phrases = (
        [ln.strip() for ln in args.phrases.read_text().splitlines() if ln.strip()]
        if args.phrases
        else []
    )
    policy = ScriptedPolicy.from_json(args.policy) if args.policy else None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with start_all(
        policy=policy, phrases=phrases, voice=args.voice, recognizer=args.recognizer
    ) as stand_ins:
        print(
            json.dumps(
                {
                    "openai_url": stand_ins.openai_url,
                    "deepgram_url": stand_ins.deepgram_url,
                    "openai_control": stand_ins.openai_url.removesuffix("/v1") + "/_stand_in",
                    "deepgram_control": stand_ins.deepgram_url.replace(
                        "ws://", "http://"
                    ).removesuffix("/v1/listen")
                    + "/_stand_in",
                    "env": stand_ins.env(),
                }
            ),
            flush=True,
        )
        stop.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
