"""Lambda assets are staged without network or Docker; context parsing is forgiving."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra_cdk.assets import DOMAINS, runtime_dependencies, stage_sources
from infra_cdk.config import ConfigError, DeploymentConfig

pytestmark = pytest.mark.infra


def test_staged_sources_hold_the_shared_package_and_each_domain_without_wiring(tmp_path: Path):
    # When sources are staged (no build/)
    sources = stage_sources(tmp_path / "staged", prefer_build=False)
    # Then the layer holds atende_shared under python/ and each domain its own package
    assert not sources.built
    assert (sources.layer / "python" / "atende_shared" / "__init__.py").is_file()
    for domain in DOMAINS:
        root = sources.functions[domain]
        assert (root / "functions" / "__init__.py").is_file()
        assert (root / "functions" / domain / "__init__.py").is_file()
        assert not (root / "functions" / domain / "wiring.py").exists()
        others = {d for d in DOMAINS if d != domain}
        assert not any((root / "functions" / other).exists() for other in others)
        assert not list(root.rglob("__pycache__"))


def test_runtime_dependencies_leave_boto3_to_the_runtime():
    deps = runtime_dependencies()
    assert deps
    assert not any(d.lower().startswith(("boto3", "botocore")) for d in deps)


class _Node:
    def __init__(self, values: dict[str, object]) -> None:
        self.values = values

    def try_get_context(self, key: str) -> object:
        return self.values.get(key)


def test_context_values_from_the_command_line_are_parsed():
    config = DeploymentConfig.from_context(
        _Node(
            {
                "stage": "prod",
                "carrierCidrs": "198.51.100.0/24, 192.0.2.0/24",
                "enableNat": "true",
                "livekitNodes": "2",
                "wafMaxBodyKiB": 32,
                "traceSubsegments": "false",
            }
        )  # type: ignore[arg-type]
    )
    assert config.stage == "prod"
    assert config.carrier_cidrs == ("198.51.100.0/24", "192.0.2.0/24")
    assert config.enable_nat is True
    assert config.livekit_nodes == 2
    assert config.waf_max_body_kib == 32
    assert config.trace_subsegments is False
    assert config.livekit_host == "livekit.atende.example.com"


@pytest.mark.parametrize(
    "bad",
    [
        {"stage": "Prod!"},
        {"stage": "local"},
        {"stage": "qa"},
        {"wafMaxBodyKiB": 256},
        {"livekitNodes": 0},
        {"carrierCidrs": "::/0"},
    ],
)
def test_unusable_context_is_refused(bad):
    with pytest.raises(ConfigError):
        DeploymentConfig.from_context(_Node(bad))  # type: ignore[arg-type]


def test_every_cdk_json_context_key_is_a_config_field_and_parses():
    # A misspelt key in cdk.json would silently fall back to the default.
    import json
    from dataclasses import fields

    from infra_cdk.config import _camel
    from infra_cdk.constants import REPO_ROOT

    context = json.loads((REPO_ROOT / "cdk.json").read_text())["context"]
    known = {_camel(f.name) for f in fields(DeploymentConfig)}
    assert set(context) <= known, set(context) - known
    config = DeploymentConfig.from_context(_Node(context))  # type: ignore[arg-type]
    assert config.carrier_cidrs == tuple(context["carrierCidrs"])


def test_interface_endpoints_follow_the_nat_gateway_unless_told():
    assert DeploymentConfig().use_interface_endpoints is False
    assert DeploymentConfig(enable_nat=True).use_interface_endpoints is True
    nat_only = DeploymentConfig.from_context(
        _Node({"enableNat": "true", "interfaceEndpoints": "false"})  # type: ignore[arg-type]
    )
    assert nat_only.use_interface_endpoints is False
