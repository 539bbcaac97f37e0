"""cdk-nag AwsSolutions finds nothing unacknowledged; cfn-lint passes on the template."""

from __future__ import annotations

import json

import pytest

from .conftest import Synthesized

pytestmark = pytest.mark.infra


def test_synth_passes_cdk_nag_awssolutions(synth: Synthesized):
    # Then synth raised no ValidationFailed and the validation report lists no findings
    assert synth.error is None, str(synth.error)
    report_path = synth.outdir / "validation-report.json"
    if report_path.exists():
        report = json.loads(report_path.read_text())
        violations = [
            (plugin["pluginName"], v["ruleName"], v["severity"])
            for plugin in report.get("pluginReports", [])
            for v in plugin.get("violations", [])
        ]
        assert violations == []


def test_every_acknowledgment_has_a_written_reason(synth: Synthesized):
    # Given the cdk_nag metadata written next to each acknowledged resource
    acknowledged = [
        (logical_id, rule)
        for logical_id, resource in synth.resources.items()
        for rule in resource.get("Metadata", {}).get("cdk_nag", {}).get("rules_to_suppress", [])
    ]
    # Then every acknowledgment has a reason, and ours (AwsSolutions) one of substance
    # (CDK itself acknowledges a few of its CloudFormation-Validate rules)
    ours = [(lid, rule) for lid, rule in acknowledged if rule["id"].startswith("AwsSolutions-")]
    assert ours
    for logical_id, rule in acknowledged:
        assert rule.get("reason", "").strip(), (logical_id, rule)
    for logical_id, rule in ours:
        assert len(rule["reason"].strip()) >= 20, (logical_id, rule)


def test_acknowledge_refuses_an_empty_reason():
    from aws_cdk import App, Stack

    from infra_cdk.nag import acknowledge

    stack = Stack(App(), "S")
    with pytest.raises(ValueError, match="needs a reason"):
        acknowledge(stack, "AwsSolutions-S1", "  ")


def test_every_cfn_lint_acknowledgment_has_a_reason():
    from infra_cdk.nag import CFN_LINT_ACKNOWLEDGMENTS

    assert CFN_LINT_ACKNOWLEDGMENTS
    for rule, reason in CFN_LINT_ACKNOWLEDGMENTS.items():
        assert len(reason.strip()) >= 20, rule


def test_cfn_lint_passes(synth: Synthesized):
    # cfn-lint was started by the fixture right after synth (see conftest)
    output, _ = synth.cfn_lint.communicate(timeout=120)
    assert synth.cfn_lint.returncode == 0, output


def _stack_metadata(synth: Synthesized) -> list[dict]:
    metadata = json.loads((synth.outdir / f"{synth.stack_name}.metadata.json").read_text())
    return [entry for entries in metadata.values() for entry in entries]


def test_the_stack_synthesizes_without_warnings_or_errors(synth: Synthesized):
    # CDK annotations (e.g. a daemon service without a circuit breaker) fail
    # `cdk deploy --strict`; none are tolerated.
    flagged = [
        (entry["type"], entry["data"])
        for entry in _stack_metadata(synth)
        if entry["type"] in ("aws:cdk:warning", "aws:cdk:error")
    ]
    assert flagged == []


def test_every_acknowledged_rule_in_the_assembly_has_a_reason(synth: Synthesized):
    acknowledged = {
        rule: reason
        for entry in _stack_metadata(synth)
        if entry["type"] == "aws:cdk:acknowledged-rules"
        for rule, reason in entry["data"].items()
    }
    assert any("AwsSolutions-" in rule for rule in acknowledged)
    assert all(reason.strip() for reason in acknowledged.values())


def test_the_template_stays_within_cloudformations_limits_with_headroom(synth: Synthesized):
    # CloudFormation: at most 500 resources and 1 MB of template (S3 upload). Past ~95 %
    # the next domain will not fit: split a nested stack (e.g. voice) before that.
    assert len(synth.resources) <= 475, len(synth.resources)
    assert synth.template_path.stat().st_size <= 900_000
