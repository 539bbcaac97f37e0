"""Settings are validated at cold start and name what is wrong."""

from __future__ import annotations

import pytest

from atende_shared.errors import ConfigurationError
from atende_shared.resources import Queue, Table, queue_url_env, table_env
from atende_shared.settings import (
    IngressQueuesSettings,
    ServiceSettings,
    TablesSettings,
    load_settings,
    reset_settings_cache,
)


class _TablesAndService(ServiceSettings, TablesSettings):
    """A function's settings composed from two mixins."""


@pytest.fixture(autouse=True)
def _fresh_cache():
    reset_settings_cache()
    yield
    reset_settings_cache()


def test_missing_variables_are_named_in_the_error(monkeypatch):
    # Given no table variables
    monkeypatch.delenv(table_env(Table.MAIN), raising=False)
    monkeypatch.delenv(table_env(Table.IDEMPOTENCY), raising=False)
    # When the settings are loaded, Then the error names both variables
    with pytest.raises(ConfigurationError) as caught:
        load_settings(_TablesAndService)
    assert "ATENDE_MAIN_TABLE" in str(caught.value)
    assert "ATENDE_IDEMPOTENCY_TABLE" in str(caught.value)


def test_composed_settings_read_each_mixin(monkeypatch):
    # Given the environment a function gets from the CDK app
    monkeypatch.setenv(table_env(Table.MAIN), "atende-main")
    monkeypatch.setenv(table_env(Table.IDEMPOTENCY), "atende-idem")
    monkeypatch.setenv("ATENDE_STAGE", "prod")
    # When loaded
    settings = load_settings(_TablesAndService)
    # Then each mixin's fields are populated and the result is cached
    assert (settings.main_table, settings.idempotency_table, settings.stage) == (
        "atende-main",
        "atende-idem",
        "prod",
    )
    assert load_settings(_TablesAndService) is settings


def test_an_unknown_stage_is_refused(monkeypatch):
    monkeypatch.setenv("ATENDE_STAGE", "production-ish")
    with pytest.raises(ConfigurationError, match="ATENDE_STAGE"):
        load_settings(ServiceSettings)


def test_ingress_queue_lookup_by_enum(monkeypatch):
    for queue in (Queue.CALLS, Queue.CATALOG, Queue.PAYMENTS, Queue.MESSAGING):
        monkeypatch.setenv(queue_url_env(queue), f"http://sqs.local/{queue.value}")
    settings = load_settings(IngressQueuesSettings)
    assert settings.url_for(Queue.PAYMENTS) == "http://sqs.local/payments"
    with pytest.raises(ConfigurationError):
        settings.url_for(Queue.ORDERS)


def test_the_livekit_secret_is_read_from_secrets_manager_when_only_named(aws, monkeypatch):
    import json

    from atende_shared.aws import client
    from atende_shared.settings import LiveKitSettings

    # Given a deployed function: a key and the secret's name, not its value
    arn = client("secretsmanager").create_secret(
        Name="atende/test/livekit", SecretString=json.dumps({"api_secret": "s3cr3t-from-sm"})
    )["ARN"]
    monkeypatch.delenv("LIVEKIT_API_SECRET", raising=False)
    monkeypatch.setenv("LIVEKIT_URL", "https://livekit.example")
    monkeypatch.setenv("LIVEKIT_API_KEY", "key")
    monkeypatch.setenv("LIVEKIT_API_SECRET_NAME", arn)
    settings = load_settings(LiveKitSettings)
    # Then it counts as configured and the secret resolves from Secrets Manager
    assert settings.livekit_configured
    assert settings.resolved_api_secret() == "s3cr3t-from-sm"


def test_an_environment_secret_wins_and_none_means_unconfigured(monkeypatch):
    from atende_shared.settings import LiveKitSettings

    monkeypatch.setenv("LIVEKIT_API_SECRET", "local-secret")
    assert load_settings(LiveKitSettings).resolved_api_secret() == "local-secret"
    reset_settings_cache()
    monkeypatch.delenv("LIVEKIT_API_SECRET")
    monkeypatch.delenv("LIVEKIT_API_SECRET_NAME", raising=False)
    settings = load_settings(LiveKitSettings)
    assert settings.resolved_api_secret() is None
    assert not settings.livekit_configured
