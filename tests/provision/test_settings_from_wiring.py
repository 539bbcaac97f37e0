"""Each provision function's settings validate with exactly the environment its wiring
gives it in AWS (the CDK app sets a variable only for what ``Access`` lists)."""

from __future__ import annotations

import os

import pytest
from pydantic_settings import BaseSettings

from atende_shared.resources import EVENT_BUS_ENV, queue_url_env, table_env
from functions.provision.settings import AdminApiSettings, ReconcileSettings, WorkerSettings
from functions.wiring import function

MODELS: dict[str, type[BaseSettings]] = {
    "provision-admin-api": AdminApiSettings,
    "provision-worker": WorkerSettings,
    "provision-reconcile": ReconcileSettings,
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_settings_validate_with_the_wired_environment_only(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in list(os.environ):
        if variable.startswith(("ATENDE_", "LIVEKIT_")):
            monkeypatch.delenv(variable)
    access = function(name).access
    for table in (*access.tables_read, *access.tables_write):
        monkeypatch.setenv(table_env(table), f"atende-{table.value}")
    for queue in access.sends_to:
        monkeypatch.setenv(queue_url_env(queue), f"https://sqs.local/atende-{queue.value}")
    if access.publishes_events:
        monkeypatch.setenv(EVENT_BUS_ENV, "atende-bus")
    if access.livekit:
        monkeypatch.setenv("LIVEKIT_URL", "https://livekit.example")
        monkeypatch.setenv("LIVEKIT_API_KEY", "key")
        monkeypatch.setenv("LIVEKIT_API_SECRET", "secret")
    settings = MODELS[name]()
    assert settings.main_table == "atende-main"  # type: ignore[attr-defined]
