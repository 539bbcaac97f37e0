"""Every function's settings model validates against the environment the template sets.

A settings mixin that wants a variable the wiring does not provide passes every local
test (the local platform sets everything) and fails the function's first cold start in
AWS. The models are found where ``@instrumented(Model)`` closed over them, in the
handler's module; tokens (table names, queue URLs) are replaced by plausible values.
"""

from __future__ import annotations

import importlib
import inspect
import os
from typing import Any

import pytest
from pydantic_settings import BaseSettings

from atende_shared.settings import reset_settings_cache
from functions.wiring import FUNCTIONS
from infra_cdk import constants

from .conftest import STAGE, Synthesized, logical_id_by_property

pytestmark = pytest.mark.infra

_SQS_URL = "https://sqs.us-east-1.amazonaws.com/000000000000/atende-queue"


def _settings_models(module_name: str) -> list[type[BaseSettings]]:
    """Models passed to ``instrumented(...)`` by any entry point of the module."""
    module = importlib.import_module(module_name)
    models: list[type[BaseSettings]] = []
    for _, member in inspect.getmembers(module, callable):
        try:
            nonlocals = inspect.getclosurevars(member).nonlocals
        except (TypeError, ValueError):
            continue
        model = nonlocals.get("settings_model")
        if isinstance(model, type) and issubclass(model, BaseSettings) and model not in models:
            models.append(model)
    return models


def _concrete(name: str, value: Any) -> str:
    if isinstance(value, str):
        return value
    return _SQS_URL if name.endswith("_QUEUE_URL") else f"atende-{STAGE}-resource"


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_the_deployed_environment_satisfies_the_handlers_settings(
    synth: Synthesized, spec, monkeypatch: pytest.MonkeyPatch
):
    # Given the handler's settings models and the environment the template gives it
    models = _settings_models(spec.module)
    assert models, f"{spec.handler}: no @instrumented(SettingsModel) entry point found"
    function_id = logical_id_by_property(
        synth, "AWS::Lambda::Function", "FunctionName", constants.physical_name(STAGE, spec.name)
    )
    variables = synth.props(function_id)["Environment"]["Variables"]
    for name in list(os.environ):
        if name.startswith(("ATENDE_", "LIVEKIT_", "POWERTOOLS_")):
            monkeypatch.delenv(name)
    for name, value in variables.items():
        monkeypatch.setenv(name, _concrete(name, value))
    reset_settings_cache()
    # Then each model validates (what the function's cold start does)
    for model in models:
        model()
    reset_settings_cache()


def test_the_agent_task_environment_satisfies_the_voice_settings(
    synth: Synthesized, monkeypatch: pytest.MonkeyPatch
):
    from voice_fargate.settings import VoiceSettings

    # Given the agent container's environment and secrets (values arrive at run time)
    tasks = [
        t["Properties"]
        for t in synth.of_type("AWS::ECS::TaskDefinition").values()
        if any(c["Name"] == "agent" for c in t["Properties"]["ContainerDefinitions"])
    ]
    container = tasks[0]["ContainerDefinitions"][0]
    for name in list(os.environ):
        if name.startswith(("ATENDE_", "LIVEKIT_", "POWERTOOLS_", "OPENAI_", "DEEPGRAM_")):
            monkeypatch.delenv(name)
    for entry in container["Environment"]:
        monkeypatch.setenv(entry["Name"], _concrete(entry["Name"], entry["Value"]))
    for secret in container["Secrets"]:
        monkeypatch.setenv(secret["Name"], "secret-value-from-secrets-manager")
    # Then the worker's settings validate, with LiveKit and both AI providers configured
    settings = VoiceSettings()
    assert settings.livekit_configured
    assert settings.has_openai
    assert settings.has_deepgram
    assert settings.stage == STAGE
