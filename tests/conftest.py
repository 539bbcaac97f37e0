"""Fixtures every test may use: an isolated fake AWS built from the declared wiring."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from moto import mock_aws

from atende_local.bootstrap import LocalResources, create_resources
from atende_local.media.stack import MediaStack
from atende_shared.aws import reset_clients
from atende_shared.settings import reset_settings_cache
from tests.moto_support import serialised_moto_requests

# Never talk to a real account from the test suite, whatever the developer's shell says.
for _var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
    os.environ.pop(_var, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_SERVICE_NAME": "atende-tests",
        "POWERTOOLS_METRICS_NAMESPACE": "AtendeTests",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

# Hypothesis' per-example deadline is a timed assertion, and a noisy 2-core CI machine fails
# it by chance; speed is measured in bench/, so properties here assert behaviour only.
settings.register_profile("atende", deadline=None)
settings.load_profile("atende")


@pytest.fixture(scope="session", autouse=True)
def _atomic_moto_requests() -> Iterator[None]:
    """Each moto request atomic, as each AWS request is: threaded tests stay honest about
    races between requests without corrupting the emulator's own dictionaries."""
    with serialised_moto_requests():
        yield


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalResources]:
    """Given a fresh moto account holding every declared resource, with its env set."""
    with mock_aws():
        reset_clients()
        reset_settings_cache()
        resources = create_resources(prefix="test")
        for name, value in resources.env.items():
            monkeypatch.setenv(name, value)
        reset_settings_cache()
        yield resources
    reset_clients()
    reset_settings_cache()


@pytest.fixture(scope="session")
def media_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MediaStack]:
    """Given the real Redis + livekit-server + livekit-sip on loopback, once per session.

    Skips (with the reason) when the media tools are not installed; ``make test`` and
    ``.ci/run`` install them (``atende_local/media/install.sh``). The server's webhooks go to
    ``stack.gateway_port``, reserved here for the local platform the media tests start.
    """
    from atende_local.fake_livekit import DEV_API_KEY, DEV_API_SECRET
    from atende_local.media import stack as media

    missing = media.missing_tools()
    if missing:
        pytest.skip(f"media stack not installed ({', '.join(missing)}): run make test")
    gateway_port = media.free_tcp_port()
    running = media.start(
        tmp_path_factory.mktemp("media-stack"),
        api_key=DEV_API_KEY,
        api_secret=DEV_API_SECRET,
        webhook_urls=[f"http://127.0.0.1:{gateway_port}/webhooks/livekit"],
    )
    running.gateway_port = gateway_port
    try:
        yield running
    finally:
        running.stop()
