"""Issue 13, infrastructure: WAF rules, the carrier-CIDR guard and least privilege.

Each rule is read from the synthesized template (or the config model) and checked against
what it must refuse; the rules that come from the wiring are checked for every function
and route the wiring declares, so new ones are covered without editing this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import pytest
from pydantic import ValidationError

from functions.sync.settings import INGEST_MAX_BODY_BYTES
from functions.wiring import FUNCTIONS
from functions.wiring_model import Access, HttpRoute
from infra_cdk import constants
from infra_cdk.config import ConfigError, DeploymentConfig
from infra_cdk.constructs.api import greater_than_pattern

from .conftest import STAGE, Synthesized, logical_id_by_property, refs_in

pytestmark = pytest.mark.infra


# -- the carrier-CIDR guard ----------------------------------------------------------------


@pytest.mark.parametrize(
    "cidrs",
    [
        ("0.0.0.0/0",),
        ("0.0.0.0/1", "128.0.0.0/1"),  # the whole internet in two halves
        ("10.0.0.0/16", "10.1.0.0/16"),  # two /16s: twice the allowed space
        tuple(f"{n}.0.0.0/8" for n in range(1, 4)),
        ("::/0",),
        ("2001:db8::/32",),
    ],
)
def test_a_carrier_set_opening_sip_to_too_much_of_the_internet_is_refused(cidrs):
    with pytest.raises(ConfigError, match="carrierCidrs"):
        DeploymentConfig(carrier_cidrs=cidrs)


@pytest.mark.parametrize(
    "cidrs",
    [
        ("198.51.100.0/24", "192.0.2.16/28"),
        ("10.0.0.0/16",),  # exactly the maximum
        ("10.0.0.0/16", "10.0.0.0/17", "10.0.128.0/17"),  # overlaps count once
    ],
)
def test_carrier_ranges_within_the_maximum_are_accepted(cidrs):
    assert DeploymentConfig(carrier_cidrs=cidrs).carrier_cidrs == cidrs


# -- WAF -------------------------------------------------------------------------------------


def _acl(synth: Synthesized) -> dict[str, Any]:
    return next(iter(synth.of_type("AWS::WAFv2::WebACL").values()))["Properties"]


def _rule(synth: Synthesized, name: str) -> dict[str, Any]:
    return next(r for r in _acl(synth)["Rules"] if r["Name"] == name)


_TRANSFORM: dict[str, Callable[[str], str]] = {
    "URL_DECODE": unquote,
    "LOWERCASE": str.lower,
    "NONE": lambda s: s,
}


def _apply(transformations: list[dict[str, Any]], value: str) -> str:
    """What WAF does to a field before matching/counting, per the template's list."""
    for step in sorted(transformations, key=lambda t: t["Priority"]):
        value = _TRANSFORM[step["Type"]](value)
    return value


def test_the_per_path_budget_is_counted_on_the_decoded_lowercased_path(synth: Synthesized):
    # Given the per-path rate rule's key transformations
    key = _rule(synth, "rate-per-path")["Statement"]["RateBasedStatement"]["CustomKeys"][0]
    transformations = key["UriPath"]["TextTransformations"]
    # Then an encoded or upper-cased spelling of a tenant's path shares its counter
    plain = _apply(transformations, "/webhooks/asaas/demo-pizzaria")
    assert _apply(transformations, "/webhooks/asaas/%64emo-pizzaria") == plain
    assert _apply(transformations, "/webhooks/asaas/%44EMO-Pizzaria") == plain
    assert _apply(transformations, "/webhooks/asaas/other-tenant") != plain


def test_the_size_rules_match_paths_after_the_same_normalisation(synth: Synthesized):
    for rule in _acl(synth)["Rules"]:
        statement = rule["Statement"].get("AndStatement")
        if not statement:
            continue
        scope = statement["Statements"][1]
        for match in scope.get("OrStatement", {}).get("Statements", [scope]):
            byte_match = match["ByteMatchStatement"]
            transformations = byte_match["TextTransformations"]
            fragment = byte_match["SearchString"]
            # an encoded spelling of the path still falls under the rule
            encoded = "".join(f"%{ord(c):02X}" if c.isalpha() else c for c in fragment)
            assert fragment in _apply(transformations, f"{encoded.upper()}x"), rule["Name"]


def test_a_per_source_ip_rate_rule_covers_every_path(synth: Synthesized):
    rule = _rule(synth, "rate-per-source-ip")
    statement = rule["Statement"]["RateBasedStatement"]
    assert statement["AggregateKeyType"] == "IP"
    assert statement["Limit"] == DeploymentConfig().waf_rate_limit_per_ip
    assert "ScopeDownStatement" not in statement
    assert rule["Action"]["Block"]["CustomResponse"]["ResponseCode"] == 429


def test_the_aws_managed_rule_groups_run_with_the_body_size_rule_counted(synth: Synthesized):
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r["Statement"][
            "ManagedRuleGroupStatement"
        ]
        for r in _acl(synth)["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert set(groups) == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    # The common set's 8 KB body limit would refuse legitimate webhooks and batches: it
    # only counts; our own size rules apply each route's cap.
    overrides = groups["AWSManagedRulesCommonRuleSet"]["RuleActionOverrides"]
    assert overrides == [{"Name": "SizeRestrictions_BODY", "ActionToUse": {"Count": {}}}]
    assert all("RuleActionOverrides" not in g for n, g in groups.items() if "Common" not in n)
    priorities = [r["Priority"] for r in _acl(synth)["Rules"]]
    assert len(set(priorities)) == len(priorities)


def test_waf_logs_to_its_own_log_group_with_credentials_redacted(synth: Synthesized):
    logging = next(iter(synth.of_type("AWS::WAFv2::LoggingConfiguration").values()))
    props = logging["Properties"]
    acl_id = next(iter(synth.of_type("AWS::WAFv2::WebACL")))
    group_id = logical_id_by_property(
        synth,
        "AWS::Logs::LogGroup",
        "LogGroupName",
        f"aws-waf-logs-{constants.physical_name(STAGE, 'api')}",
    )
    assert acl_id in refs_in(props["ResourceArn"])
    assert group_id in refs_in(props["LogDestinationConfigs"])
    redacted = {f["SingleHeader"]["Name"] for f in props["RedactedFields"]}
    assert {"authorization", "asaas-access-token", "apikey"} <= redacted


def test_the_ingest_cap_is_enforced_at_the_edge_from_the_handlers_constant(synth: Synthesized):
    # Given the declared-size rule(s) for the large-body routes
    rules = [r for r in _acl(synth)["Rules"] if r["Name"].startswith("declared-size-limit-")]
    assert [r["Name"] for r in rules] == [f"declared-size-limit-{INGEST_MAX_BODY_BYTES}"]
    regex, scope = rules[0]["Statement"]["AndStatement"]["Statements"]
    pattern = regex["RegexMatchStatement"]["RegexString"]
    assert regex["RegexMatchStatement"]["FieldToMatch"] == {
        "SingleHeader": {"Name": "content-length"}
    }
    # Then a declared length one byte over the cap is refused, the cap itself is not
    assert re.fullmatch(pattern, str(INGEST_MAX_BODY_BYTES + 1))
    assert not re.fullmatch(pattern, str(INGEST_MAX_BODY_BYTES))
    # And the rule covers every route declaring that cap, and no other
    fragments = [m["ByteMatchStatement"]["SearchString"] for m in _matches(scope)]
    for route in (r for spec in FUNCTIONS for r in spec.routes):
        covered = any(f in route.path + "/" for f in fragments)
        assert covered == (route.max_body_bytes == INGEST_MAX_BODY_BYTES), route.path


def _matches(scope: dict[str, Any]) -> list[dict[str, Any]]:
    return scope.get("OrStatement", {}).get("Statements", [scope])


@pytest.mark.parametrize("limit", [0, 7, 9, 10, 99, 65_536, 5_242_880, 999_999, 1_000_000])
def test_the_content_length_pattern_matches_exactly_the_numbers_above_the_limit(limit):
    pattern = re.compile(greater_than_pattern(limit))
    probes = {0, 1, limit - 1, limit, limit + 1, limit * 10, 10 ** len(str(limit)), 10**12}
    probes |= {limit + d for d in range(-120, 121)}
    for n in sorted(p for p in probes if p >= 0):
        assert bool(pattern.fullmatch(str(n))) == (n > limit), (limit, n)
        assert bool(pattern.fullmatch(f"00{n}")) == (n > limit), (limit, n)
    assert not pattern.fullmatch("")
    assert not pattern.fullmatch(f"{limit + 1}x")


def test_a_public_large_body_route_must_declare_its_cap():
    with pytest.raises(ValidationError, match="max_body_bytes"):
        HttpRoute(method="POST", path="/v1/bulk/{tenant_id}", auth="public-signed", large_body=True)


# -- least privilege -----------------------------------------------------------------------


def _statements(synth: Synthesized) -> list[tuple[set[str], Any]]:
    found = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"]
            found.append(
                (set(actions if isinstance(actions, list) else [actions]), statement["Resource"])
            )
    return found


def _joined(resource: Any) -> str:
    if isinstance(resource, dict) and "Fn::Join" in resource:
        return "".join(p for p in resource["Fn::Join"][1] if isinstance(p, str))
    return str(resource)


def test_secret_writes_name_bling_secrets_only_never_a_prefix(synth: Synthesized):
    writes = [
        _joined(r)
        for actions, resources in _statements(synth)
        if actions & {"secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"}
        for r in (resources if isinstance(resources, list) else [resources])
    ]
    assert writes
    assert all(w.endswith(f":secret:atende/{STAGE}/tenants/*/bling-??????") for w in writes)
    writers = {s.name for s in FUNCTIONS if s.access.secret_writes}
    assert writers == {"sync-catalog", "sync-orders"}


@pytest.mark.parametrize("name", ["tenants/*", "tenants/", "tenants/**/bling", "other/x"])
def test_a_secret_write_must_name_secrets_under_a_read_prefix(name):
    with pytest.raises(ValidationError, match="secret_writes"):
        Access(secret_prefixes=("tenants",), secret_writes=(name,))


def _function_ids(synth: Synthesized) -> dict[str, str]:
    return {
        spec.name: logical_id_by_property(
            synth,
            "AWS::Lambda::Function",
            "FunctionName",
            constants.physical_name(STAGE, spec.name),
        )
        for spec in FUNCTIONS
    }


def test_every_declared_function_has_reserved_concurrency(synth: Synthesized):
    ids = _function_ids(synth)
    for spec in FUNCTIONS:
        props = synth.props(ids[spec.name])
        assert props.get("ReservedConcurrentExecutions") == spec.reserved_concurrency, spec.name


def test_every_scheduled_function_keeps_its_failed_invocations(synth: Synthesized):
    ids = _function_ids(synth)
    failures = logical_id_by_property(
        synth, "AWS::SQS::Queue", "QueueName", constants.physical_name(STAGE, "schedule-failures")
    )
    configs = synth.of_type("AWS::Lambda::EventInvokeConfig").values()
    on_failure = {
        next(iter(refs_in(c["Properties"]["FunctionName"])))
        for c in configs
        if failures in refs_in(c["Properties"]["DestinationConfig"]["OnFailure"])
    }
    scheduled = {ids[s.name] for s in FUNCTIONS if s.schedules}
    assert scheduled
    assert on_failure == scheduled
    # and EventBridge's own delivery failures go to the same queue
    for rule in synth.of_type("AWS::Events::Rule").values():
        if "ScheduleExpression" not in rule["Properties"]:
            continue
        for target in rule["Properties"]["Targets"]:
            assert failures in refs_in(target["DeadLetterConfig"]), target


def test_the_artifacts_bucket_keeps_previous_versions_for_a_bounded_time(synth: Synthesized):
    buckets = [
        b["Properties"]
        for b in synth.of_type("AWS::S3::Bucket").values()
        if any(
            r.get("Id") == "transcripts-to-ia"
            for r in b["Properties"]["LifecycleConfiguration"]["Rules"]
        )
    ]
    assert len(buckets) == 1
    assert buckets[0]["VersioningConfiguration"] == {"Status": "Enabled"}
    rules = {r["Id"]: r for r in buckets[0]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": constants.NONCURRENT_VERSION_DAYS
    }
