"""The real media stack for local runs, tests and benchmarks: Redis, livekit-server and
livekit-sip (``install.sh`` builds them; :mod:`atende_local.media.stack` starts them)."""
