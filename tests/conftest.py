"""Fixtures every test may use: an isolated fake AWS built from the declared wiring."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import settings
from moto import mock_aws

from atende_local.bootstrap import LocalResources, create_resources
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
