"""Fake LiveKit SIP API for tests and the local platform (see ``server`` for the contract).

Usage::

    from atende_local import fake_livekit
    handle = fake_livekit.start(api_key="devkey", api_secret="...")
    os.environ["LIVEKIT_URL"] = handle.url   # plus LIVEKIT_API_KEY / LIVEKIT_API_SECRET
    ...
    handle.stop()
"""

from atende_local.fake_livekit.server import (
    DEV_API_KEY,
    DEV_API_SECRET,
    FakeLiveKit,
    FakeSipState,
    TwirpFailure,
    start,
)

__all__ = ["DEV_API_KEY", "DEV_API_SECRET", "FakeLiveKit", "FakeSipState", "TwirpFailure", "start"]
