"""Voice: LiveKit and SIP on host networking, SIP/RTP only from carriers, agent on Fargate."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from infra_cdk import constants
from infra_cdk.config import DEFAULT_CARRIER_CIDRS, ConfigError, DeploymentConfig

from .conftest import CARRIER_CIDRS, Synthesized

pytestmark = pytest.mark.infra

SIP_AND_RTP = ((constants.SIP_PORT, constants.SIP_PORT), constants.RTP_RANGE)


def _ingress_rules(synth: Synthesized) -> list[dict[str, Any]]:
    rules = []
    for group in synth.of_type("AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    rules += [r["Properties"] for r in synth.of_type("AWS::EC2::SecurityGroupIngress").values()]
    return rules


def _overlaps(rule: dict[str, Any], low: int, high: int) -> bool:
    if rule.get("IpProtocol") == "-1":
        return True
    return rule["FromPort"] <= high and rule["ToPort"] >= low


def _task_with_container(synth: Synthesized, name: str) -> dict[str, Any]:
    tasks = [
        t["Properties"]
        for t in synth.of_type("AWS::ECS::TaskDefinition").values()
        if any(c["Name"] == name for c in t["Properties"]["ContainerDefinitions"])
    ]
    assert len(tasks) == 1
    return tasks[0]


@pytest.mark.parametrize("container", ["livekit-server", "livekit-sip"])
def test_livekit_and_sip_run_with_host_networking_on_ec2(synth: Synthesized, container):
    task = _task_with_container(synth, container)
    assert task["NetworkMode"] == "host"
    assert task["RequiresCompatibilities"] == ["EC2"]


def test_livekit_and_sip_run_as_one_daemon_per_host(synth: Synthesized):
    synth.template.resource_properties_count_is(
        "AWS::ECS::Service", {"SchedulingStrategy": "DAEMON", "LaunchType": "EC2"}, 2
    )


def test_no_sip_or_rtp_ingress_from_anywhere(synth: Synthesized):
    for rule in _ingress_rules(synth):
        for low, high in SIP_AND_RTP:
            if _overlaps(rule, low, high):
                assert rule.get("CidrIp") not in ("0.0.0.0/0", None), rule
                assert rule.get("CidrIpv6") is None, rule
                assert rule["CidrIp"] in CARRIER_CIDRS, rule


@pytest.mark.parametrize("cidr", CARRIER_CIDRS)
def test_sip_and_rtp_open_to_each_carrier_cidr_from_context(synth: Synthesized, cidr):
    rules = [r for r in _ingress_rules(synth) if r.get("CidrIp") == cidr]
    opened = {(r["IpProtocol"], r["FromPort"], r["ToPort"]) for r in rules}
    assert opened == {
        ("udp", constants.SIP_PORT, constants.SIP_PORT),
        ("tcp", constants.SIP_PORT, constants.SIP_PORT),
        ("udp", *constants.RTP_RANGE),
    }


def test_ice_ports_are_open_and_the_livekit_api_only_behind_the_tls_balancer(synth: Synthesized):
    rules = _ingress_rules(synth)
    open_to_all = {
        (r["IpProtocol"], r["FromPort"], r["ToPort"])
        for r in rules
        if r.get("CidrIp") == "0.0.0.0/0"
    }
    assert open_to_all == {
        ("udp", *constants.LIVEKIT_ICE_UDP_RANGE),
        ("tcp", constants.LIVEKIT_ICE_TCP_PORT, constants.LIVEKIT_ICE_TCP_PORT),
        ("tcp", 443, 443),
    }
    api_rules = [
        r for r in rules if _overlaps(r, constants.LIVEKIT_HTTP_PORT, constants.LIVEKIT_HTTP_PORT)
    ]
    assert api_rules
    assert all("SourceSecurityGroupId" in r for r in api_rules)
    synth.template.has_resource_properties(
        "AWS::ElasticLoadBalancingV2::Listener",
        {"Protocol": "TLS", "Port": 443, "Certificates": [Match.any_value()]},
    )


def test_hosts_have_stable_public_ips_and_share_one_encrypted_redis(synth: Synthesized):
    synth.template.resource_count_is("AWS::EC2::EIP", 1)
    synth.template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"TransitEncryptionEnabled": True, "AtRestEncryptionEnabled": True},
    )
    for container in ("livekit-server", "livekit-sip"):
        task = _task_with_container(synth, container)
        environment = task["ContainerDefinitions"][0]["Environment"]
        assert any("redis" in str(e["Value"]) for e in environment)


def test_the_agent_runs_on_arm64_fargate_without_inbound_ports(synth: Synthesized):
    task = _task_with_container(synth, "agent")
    assert task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    container = task["ContainerDefinitions"][0]
    assert "PortMappings" not in container
    assert container["StopTimeout"] == constants.AGENT_STOP_TIMEOUT_SECONDS
    assert {s["Name"] for s in container["Secrets"]} >= {
        "LIVEKIT_API_KEY",
        "LIVEKIT_API_SECRET",
        "OPENAI_API_KEY",
        "DEEPGRAM_API_KEY",
    }
    agent_groups = [
        g["Properties"]
        for g in synth.of_type("AWS::EC2::SecurityGroup").values()
        if "Voice agent" in g["Properties"]["GroupDescription"]
    ]
    assert len(agent_groups) == 1
    assert "SecurityGroupIngress" not in agent_groups[0]
    synth.template.has_resource_properties(
        "AWS::ApplicationAutoScaling::ScalingPolicy",
        {
            "TargetTrackingScalingPolicyConfiguration": Match.object_like(
                {
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": "ECSServiceAverageCPUUtilization"
                    }
                }
            )
        },
    )


def test_the_agent_may_protect_its_own_tasks_and_write_the_main_table(synth: Synthesized):
    # The agent allocates the kitchen's order number (UpdateItem on the tenant's counter)
    # and remembers customers (PutItem) on the main table, as its wiring declares.
    task = _task_with_container(synth, "agent")
    role_id = task["TaskRoleArn"]["Fn::GetAtt"][0]
    statements = [
        statement
        for policy in synth.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in policy["Properties"]["Roles"]
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        action
        for statement in statements
        for action in (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
    }
    assert {"ecs:UpdateTaskProtection", "ecs:GetTaskProtection"} <= actions
    assert "s3:PutObject" in actions
    assert "events:PutEvents" in actions
    assert {"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:GetItem"} <= actions


def test_no_nat_gateway_by_default_but_free_gateway_endpoints(synth: Synthesized):
    synth.template.resource_count_is("AWS::EC2::NatGateway", 0)
    synth.template.resource_properties_count_is(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"}, 2
    )


def test_the_agent_image_is_staged_from_a_small_context(synth: Synthesized):
    # Synth stages the Docker context (no build): only what the Dockerfile copies.
    manifest = (synth.outdir / f"{synth.stack_name}.assets.json").read_text()
    images = json.loads(manifest)["dockerImages"]
    assert len(images) == 1
    source = next(iter(images.values()))["source"]
    assert source["dockerFile"] == "voice_fargate/Dockerfile"
    context = synth.outdir / source["directory"]
    assert (context / "voice_fargate" / "Dockerfile").is_file()
    assert (context / "layers" / "atende_shared").is_dir()
    for heavy in (".venv", ".git", "cdk.out", "build", "tests", "node_modules"):
        assert not (context / heavy).exists(), heavy


def test_default_carrier_cidrs_are_a_documentation_range_and_the_internet_is_refused():
    assert DeploymentConfig().carrier_cidrs == DEFAULT_CARRIER_CIDRS == ("203.0.113.0/24",)
    with pytest.raises(ConfigError):
        DeploymentConfig(carrier_cidrs=("0.0.0.0/0",))
    with pytest.raises(ValueError, match="does not appear to be an IPv4 or IPv6 network"):
        DeploymentConfig(carrier_cidrs=("not-a-cidr",))


def test_the_agents_environment_and_secrets_follow_its_declared_access(synth: Synthesized):
    from atende_shared.resources import EVENT_BUS_ENV, bucket_env, table_env
    from functions.wiring import AGENT

    # Given the agent's container as synthesized
    task = _task_with_container(synth, "agent")
    container = next(c for c in task["ContainerDefinitions"] if c["Name"] == "agent")
    env = {e["Name"] for e in container["Environment"]}
    secrets = {s["Name"] for s in container.get("Secrets", [])}
    access = AGENT.access
    # Then it names exactly the resources its wiring declares
    expected = {table_env(t) for t in (*access.tables_read, *access.tables_write)}
    expected |= {bucket_env(b) for b in (*access.bucket_read, *access.bucket_write)}
    if access.publishes_events:
        expected.add(EVENT_BUS_ENV)
    resource_env = {n for n in env if n.endswith(("_TABLE", "_BUCKET")) or n == EVENT_BUS_ENV}
    assert resource_env == expected
    # And the LiveKit keys arrive as ECS secrets, where LiveKit is declared
    assert ({"LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"} <= secrets) == access.livekit
    assert "LIVEKIT_URL" in env
