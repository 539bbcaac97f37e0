"""Lambda defaults, environment and IAM follow each function's declared access exactly."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk.assertions import Match

from atende_shared.resources import (
    EVENT_BUS_ENV,
    Queue,
    Table,
    bucket_env,
    queue_url_env,
    table_env,
)
from functions.wiring import FUNCTIONS, QUEUES, function
from functions.wiring_model import FunctionSpec
from infra_cdk import constants
from infra_cdk.constructs.functions import lambda_defaults

from .conftest import STAGE, Synthesized, logical_id_by_property, refs_in

pytestmark = pytest.mark.infra

TABLE_WRITE = {
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:BatchWriteItem",
}
TABLE_READ = {"dynamodb:GetItem", "dynamodb:Query"}


def _function_id(synth: Synthesized, name: str) -> str:
    return logical_id_by_property(
        synth, "AWS::Lambda::Function", "FunctionName", constants.physical_name(STAGE, name)
    )


def _ids(synth: Synthesized) -> dict[str, str]:
    """Resource kind/name -> logical id, found by physical name."""
    ids = {}
    for table in Table:
        ids[f"table:{table.value}"] = logical_id_by_property(
            synth, "AWS::DynamoDB::Table", "TableName", constants.physical_name(STAGE, table.value)
        )
    for queue in QUEUES:
        ids[f"queue:{queue.name.value}"] = logical_id_by_property(
            synth,
            "AWS::SQS::Queue",
            "QueueName",
            constants.physical_name(STAGE, queue.physical_suffix),
        )
    ids["bus"] = logical_id_by_property(
        synth, "AWS::Events::EventBus", "Name", constants.physical_name(STAGE, "bus")
    )
    ids["livekit-secret"] = logical_id_by_property(
        synth,
        "AWS::SecretsManager::Secret",
        "Name",
        constants.secret_name(STAGE, constants.LIVEKIT_SECRET),
    )
    ids["cursor-key"] = logical_id_by_property(
        synth,
        "AWS::SecretsManager::Secret",
        "Name",
        constants.secret_name(STAGE, constants.CURSOR_KEY_SECRET),
    )
    return ids


def _permissions(synth: Synthesized, spec: FunctionSpec) -> list[tuple[set[str], Any]]:
    """(actions, resource expression) of every statement on the function's role."""
    role_id = synth.props(_function_id(synth, spec.name))["Role"]["Fn::GetAtt"][0]
    granted = []
    for policy in synth.of_type("AWS::IAM::Policy").values():
        if {"Ref": role_id} not in policy["Properties"]["Roles"]:
            continue
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            granted.append(
                ({actions} if isinstance(actions, str) else set(actions), statement["Resource"])
            )
    return granted


def _actions_on(granted: list[tuple[set[str], Any]], logical_id: str) -> set[str]:
    return {a for actions, resource in granted if logical_id in refs_in(resource) for a in actions}


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_every_function_uses_the_lambda_defaults_and_its_spec(synth: Synthesized, spec):
    expected: dict[str, Any] = {
        "Architectures": ["arm64"],
        "Runtime": constants.LAMBDA_RUNTIME_NAME,
        "Handler": spec.handler,
        "MemorySize": spec.memory_mb,
        "Timeout": spec.timeout_seconds,
        "TracingConfig": {"Mode": "Active"},
        "LoggingConfig": Match.object_like({"LogFormat": "JSON", "ApplicationLogLevel": "INFO"}),
        "Layers": [{"Ref": Match.any_value()}],
        "Environment": {
            "Variables": Match.object_like(
                {
                    "ATENDE_STAGE": STAGE,
                    "POWERTOOLS_SERVICE_NAME": spec.name,
                    "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                    # traceSubsegments defaults to true: the X-Ray SDK traces subsegments
                    "POWERTOOLS_TRACE_DISABLED": Match.absent(),
                }
            )
        },
        "ReservedConcurrentExecutions": (
            spec.reserved_concurrency if spec.reserved_concurrency else Match.absent()
        ),
    }
    synth.template.has_resource_properties(
        "AWS::Lambda::Function",
        {"FunctionName": constants.physical_name(STAGE, spec.name), **expected},
    )


def test_the_layer_targets_the_function_runtime_and_arm64(synth: Synthesized):
    synth.template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {
            "CompatibleRuntimes": [constants.LAMBDA_RUNTIME_NAME],
            "CompatibleArchitectures": ["arm64"],
        },
    )
    from infra_cdk.constructs.functions import LAMBDA_RUNTIME

    assert LAMBDA_RUNTIME.name == constants.LAMBDA_RUNTIME_NAME


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_environment_names_exactly_the_declared_resources(synth: Synthesized, spec):
    variables = synth.props(_function_id(synth, spec.name))["Environment"]["Variables"]
    access = spec.access
    for table in Table:
        declared = table in (*access.tables_read, *access.tables_write)
        assert (table_env(table) in variables) == declared, table
    for queue in Queue:
        assert (queue_url_env(queue) in variables) == (queue in access.sends_to), queue
    assert (EVENT_BUS_ENV in variables) == access.publishes_events
    for bucket in {*access.bucket_read, *access.bucket_write}:
        assert bucket_env(bucket) in variables
    assert ("LIVEKIT_URL" in variables) == access.livekit
    # where to read the LiveKit secret, never the secret itself
    assert ("LIVEKIT_API_SECRET_NAME" in variables) == access.livekit
    assert "LIVEKIT_API_SECRET" not in variables


@pytest.mark.parametrize("spec", FUNCTIONS, ids=[f.name for f in FUNCTIONS])
def test_iam_grants_exactly_the_declared_access(synth: Synthesized, spec):
    # Given the function's role statements and the logical ids of the shared resources
    granted = _permissions(synth, spec)
    ids = _ids(synth)
    access = spec.access
    # Then tables: read where declared, write only where declared
    for table in Table:
        actions = _actions_on(granted, ids[f"table:{table.value}"])
        readable = table in access.tables_read or table in access.tables_write
        assert actions >= TABLE_READ if readable else not actions & TABLE_READ, table
        assert (bool(actions & TABLE_WRITE)) == (table in access.tables_write), table
    # queues: send only to declared queues
    for queue in QUEUES:
        actions = _actions_on(granted, ids[f"queue:{queue.name.value}"])
        assert ("sqs:SendMessage" in actions) == (queue.name in access.sends_to), queue.name
    # the bus: put events only when declared
    assert ("events:PutEvents" in _actions_on(granted, ids["bus"])) == access.publishes_events
    # objects: read/write as declared
    all_actions = {a for actions, _ in granted for a in actions}
    assert ("s3:PutObject" in all_actions) == bool(access.bucket_write)
    assert ("s3:GetObject" in all_actions) == bool(access.bucket_read)
    assert not {a for a in all_actions if a.startswith("s3:Delete")}
    # the LiveKit secret: readable (fetched at first use) exactly where LiveKit is declared
    livekit_secret = _actions_on(granted, ids["livekit-secret"])
    if access.livekit:
        assert "secretsmanager:GetSecretValue" in livekit_secret
        assert livekit_secret <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    else:
        assert not livekit_secret
    granted = [(a, r) for a, r in granted if ids["livekit-secret"] not in refs_in(r)]
    # the cursor key: readable exactly by the admin APIs (they sign list cursors)
    cursor_key = _actions_on(granted, ids["cursor-key"])
    if any(r.auth == "admin" for r in spec.routes):
        assert "secretsmanager:GetSecretValue" in cursor_key
        assert cursor_key <= {"secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"}
    else:
        assert not cursor_key
    granted = [(a, r) for a, r in granted if ids["cursor-key"] not in refs_in(r)]
    # tenant secrets: read under atende/<stage>/<prefix>/, write only where declared
    secret_statements = [
        r for actions, r in granted if any(a.startswith("secretsmanager:") for a in actions)
    ]
    assert bool(secret_statements) == bool(access.secret_prefixes)
    writes_secrets = False
    read_prefixes: set[str] = set()
    for actions, resource in granted:
        if any(a.startswith("secretsmanager:") for a in actions):
            # one statement per grant, one resource per declared prefix (or written name)
            for one in resource if isinstance(resource, list) else [resource]:
                joined = "".join(p for p in one["Fn::Join"][1] if isinstance(p, str))
                if actions == {"secretsmanager:GetSecretValue"}:
                    matched = [
                        p
                        for p in access.secret_prefixes
                        if f":secret:atende/{STAGE}/{p}/*" in joined
                    ]
                    assert matched, joined
                    read_prefixes.update(matched)
                else:
                    # writes name exactly the declared secrets, never a whole prefix
                    assert actions == {
                        "secretsmanager:PutSecretValue",
                        "secretsmanager:CreateSecret",
                    }
                    assert any(
                        joined.endswith(f":secret:atende/{STAGE}/{name}-??????")
                        for name in access.secret_writes
                    ), joined
                    writes_secrets = True
    assert read_prefixes == set(access.secret_prefixes)
    assert writes_secrets == bool(access.secret_writes)
    # and nothing on "*" except X-Ray
    for actions, resource in granted:
        if resource == "*":
            assert actions <= {"xray:PutTraceSegments", "xray:PutTelemetryRecords"}


def test_webhooks_cannot_write_the_main_table_and_only_send_to_its_queues(synth: Synthesized):
    # Given the ingress function: it reads tenants, dedupes, enqueues
    spec = function("webhooks-ingress")
    granted = _permissions(synth, spec)
    ids = _ids(synth)
    # Then it cannot write the main table
    assert not _actions_on(granted, ids["table:main"]) & TABLE_WRITE
    # And it sends only to the queues it declares
    sends = {
        queue.name
        for queue in QUEUES
        if "sqs:SendMessage" in _actions_on(granted, ids[f"queue:{queue.name.value}"])
    }
    assert sends == set(spec.access.sends_to)
    assert Queue.ORDERS not in sends
    assert Queue.PROVISIONING not in sends


def test_api_stage_throttles_logs_traces(synth: Synthesized):
    synth.template.has_resource_properties(
        "AWS::ApiGateway::Stage",
        {
            "StageName": STAGE,
            "TracingEnabled": True,
            "AccessLogSetting": Match.object_like({"DestinationArn": Match.any_value()}),
            "MethodSettings": Match.array_with(
                [
                    Match.object_like(
                        {
                            "ThrottlingRateLimit": Match.any_value(),
                            "ThrottlingBurstLimit": Match.any_value(),
                            "DataTraceEnabled": False,
                        }
                    )
                ]
            ),
        },
    )


def test_waf_caps_body_size_and_rate_limits_per_path(synth: Synthesized):
    synth.template.has_resource_properties(
        "AWS::WAFv2::WebACL",
        {
            "Scope": "REGIONAL",
            "Rules": Match.array_with(
                [
                    Match.object_like(
                        {
                            "Action": {
                                "Block": {
                                    "CustomResponse": Match.object_like({"ResponseCode": 413})
                                }
                            },
                            "Statement": {
                                "AndStatement": {
                                    "Statements": [
                                        {
                                            "SizeConstraintStatement": Match.object_like(
                                                {
                                                    "FieldToMatch": {
                                                        "Body": {"OversizeHandling": "MATCH"}
                                                    },
                                                    "ComparisonOperator": "GT",
                                                }
                                            )
                                        },
                                        Match.any_value(),
                                    ]
                                }
                            },
                        }
                    ),
                    Match.object_like(
                        {
                            "Action": {
                                "Block": {
                                    "CustomResponse": Match.object_like({"ResponseCode": 429})
                                }
                            },
                            "Statement": {
                                "RateBasedStatement": Match.object_like(
                                    {
                                        "AggregateKeyType": "CUSTOM_KEYS",
                                        "CustomKeys": [{"UriPath": Match.any_value()}],
                                    }
                                )
                            },
                        }
                    ),
                ]
            ),
        },
    )
    stage_id = next(iter(synth.of_type("AWS::ApiGateway::Stage")))
    association = next(iter(synth.of_type("AWS::WAFv2::WebACLAssociation").values()))
    assert stage_id in refs_in(association["Properties"]["ResourceArn"])


def test_the_body_cap_applies_to_every_public_route_and_no_admin_route(synth: Synthesized):
    # Given the path fragments the size rule is scoped to
    acl = next(iter(synth.of_type("AWS::WAFv2::WebACL").values()))["Properties"]
    rule = next(r for r in acl["Rules"] if r["Name"] == "body-size-limit")
    scope = rule["Statement"]["AndStatement"]["Statements"][1]
    matches = scope.get("OrStatement", {}).get("Statements", [scope])
    fragments = [m["ByteMatchStatement"]["SearchString"] for m in matches]
    routes = [r for spec in FUNCTIONS for r in spec.routes]
    # Then every public route falls under it, and no admin or large-body route does
    for route in routes:
        covered = any(fragment in route.path + "/" for fragment in fragments)
        assert covered == (route.auth != "admin" and not route.large_body), route
    assert any(r.large_body for r in routes), "the ingest routes opt out of the cap"


def test_an_admin_invoke_policy_covers_the_admin_routes(synth: Synthesized):
    synth.template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "ManagedPolicyName": constants.physical_name(STAGE, "admin-api-invoke"),
            "PolicyDocument": {
                "Statement": [Match.object_like({"Action": "execute-api:Invoke"})],
                "Version": Match.any_value(),
            },
        },
    )


def test_trace_subsegments_off_keeps_active_tracing_but_skips_the_sdk() -> None:
    spec = FUNCTIONS[0]
    on = lambda_defaults(spec=spec, stage=STAGE, use_reserved_concurrency=True)
    off = lambda_defaults(
        spec=spec, stage=STAGE, use_reserved_concurrency=True, trace_subsegments=False
    )
    assert "POWERTOOLS_TRACE_DISABLED" not in on["environment"]
    assert off["environment"]["POWERTOOLS_TRACE_DISABLED"] == "true"
    assert on["tracing"] == off["tracing"] == lambda_.Tracing.ACTIVE


def test_every_admin_api_reads_the_cursor_key_and_no_other_function_does(synth):
    # Given the wiring's functions with admin routes (they answer lists with signed cursors)
    from atende_shared.pagination import CURSOR_KEY_SECRET_ENV
    from functions.wiring import FUNCTIONS

    admin_apis = {s.name for s in FUNCTIONS if any(r.auth == "admin" for r in s.routes)}
    # When the template's functions are read
    with_key = set()
    for resource in synth.resources.values():
        if resource["Type"] != "AWS::Lambda::Function":
            continue
        env = resource["Properties"].get("Environment", {}).get("Variables", {})
        if CURSOR_KEY_SECRET_ENV in env:
            with_key.add(env["POWERTOOLS_SERVICE_NAME"])
    # Then exactly the admin APIs are told where the key is
    assert admin_apis
    assert with_key == admin_apis
