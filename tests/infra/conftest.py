"""Synthesize the CDK app once per test session and share the template.

The app is synthesized exactly as ``make synth`` does (cdk-nag attached), into a temp
directory, with two carrier CIDRs passed in context so the SIP rules can be checked
against them. Nothing is downloaded and no Docker is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# The jsii runtime reads this when aws_cdk is first imported.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")

STAGE = "staging"
CARRIER_CIDRS = ("198.51.100.0/24", "192.0.2.16/28")


@dataclass(frozen=True)
class Synthesized:
    """What one synth produced."""

    template: Any  # aws_cdk.assertions.Template
    resources: dict[str, dict[str, Any]]
    template_json: dict[str, Any]
    template_path: Path
    outdir: Path
    error: Exception | None
    stack_name: str
    #: cfn-lint, started as soon as the template exists so it runs alongside the tests.
    cfn_lint: subprocess.Popen[str]

    def of_type(self, type_name: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.resources.items() if v["Type"] == type_name}

    def props(self, logical_id: str) -> dict[str, Any]:
        return self.resources[logical_id].get("Properties", {})


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synthesized]:
    from aws_cdk.assertions import Template

    from infra_cdk.app import build_app
    from infra_cdk.nag import CFN_LINT_ACKNOWLEDGMENTS

    # Never pick up a developer's account: with one, synth would want AZ lookups.
    os.environ.pop("CDK_DEFAULT_ACCOUNT", None)
    outdir = tmp_path_factory.mktemp("cdk-out")
    app, stack = build_app(
        context={"stage": STAGE, "region": "us-east-1", "carrierCidrs": ",".join(CARRIER_CIDRS)},
        outdir=str(outdir),
        prefer_build=False,
    )
    error: Exception | None = None
    try:
        app.synth()
    except RuntimeError as exc:  # cdk-nag findings surface as ValidationFailed
        error = exc
    template_path = outdir / stack.template_file
    template_json = json.loads(template_path.read_text(encoding="utf-8"))
    cfn_lint = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            str(template_path),
            "--format",
            "parseable",
            # the informational rules too; what we accept is acknowledged, with a reason
            "--include-checks",
            "I",
            "--ignore-checks",
            *CFN_LINT_ACKNOWLEDGMENTS,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield Synthesized(
        template=Template.from_json(template_json),
        resources=template_json["Resources"],
        template_json=template_json,
        template_path=template_path,
        outdir=outdir,
        error=error,
        stack_name=stack.artifact_id,
        cfn_lint=cfn_lint,
    )
    if cfn_lint.poll() is None:  # a -k selection that skipped the lint test
        cfn_lint.kill()
        cfn_lint.wait()


def refs_in(expression: Any) -> set[str]:
    """Logical ids an intrinsic expression points at (Ref / Fn::GetAtt), recursively."""
    found: set[str] = set()
    if isinstance(expression, dict):
        if "Ref" in expression and isinstance(expression["Ref"], str):
            found.add(expression["Ref"])
        if "Fn::GetAtt" in expression:
            found.add(expression["Fn::GetAtt"][0])
        for value in expression.values():
            found |= refs_in(value)
    elif isinstance(expression, list):
        for value in expression:
            found |= refs_in(value)
    return found


def logical_id_by_property(synth: Synthesized, type_name: str, prop: str, value: Any) -> str:
    """The one resource of ``type_name`` whose ``prop`` equals ``value``."""
    matches = [k for k, v in synth.of_type(type_name).items() if v["Properties"].get(prop) == value]
    assert len(matches) == 1, f"{type_name} with {prop}={value!r}: {matches}"
    return matches[0]
