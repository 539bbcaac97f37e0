"""``python -m atende_local.fake_livekit --port 7880``: run the fake on its own."""

from __future__ import annotations

import argparse
import time

from atende_local.fake_livekit.server import DEV_API_KEY, DEV_API_SECRET, start


def main() -> None:
    parser = argparse.ArgumentParser(description="Fake LiveKit SIP API (Twirp) on loopback")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7880)
    parser.add_argument("--api-key", default=DEV_API_KEY)
    parser.add_argument("--api-secret", default=DEV_API_SECRET)
    args = parser.parse_args()
    handle = start(args.host, args.port, api_key=args.api_key, api_secret=args.api_secret)
    print(f"fake LiveKit SIP API on {handle.url} (key {args.api_key})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        handle.stop()


if __name__ == "__main__":
    main()
