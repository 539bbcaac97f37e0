"""The synthesized template carries exactly the declared wiring (functions.wiring)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from atende_shared.resources import EVENT_SOURCE
from functions.wiring import FUNCTIONS, QUEUES
from infra_cdk import constants

from .conftest import STAGE, Synthesized, logical_id_by_property

pytestmark = pytest.mark.infra

ROUTES = [(spec, route) for spec in FUNCTIONS for route in spec.routes]
TRIGGERS = [(spec, trigger) for spec in FUNCTIONS for trigger in spec.queues]
SCHEDULES = [(spec, schedule) for spec in FUNCTIONS for schedule in spec.schedules]
SUBSCRIBED = [queue for queue in QUEUES if queue.subscribes_to]


def _function_id(synth: Synthesized, name: str) -> str:
    return logical_id_by_property(
        synth, "AWS::Lambda::Function", "FunctionName", constants.physical_name(STAGE, name)
    )


def _queue_id(synth: Synthesized, suffix: str) -> str:
    return logical_id_by_property(
        synth, "AWS::SQS::Queue", "QueueName", constants.physical_name(STAGE, suffix)
    )


def _resource_paths(synth: Synthesized) -> dict[str, str]:
    """API Gateway resource logical id -> full path, rebuilt from PathPart/ParentId."""
    resources = synth.of_type("AWS::ApiGateway::Resource")

    def path_of(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {logical_id: path_of(logical_id) for logical_id in resources}


@pytest.mark.parametrize(("spec", "route"), ROUTES, ids=[f"{r.method} {r.path}" for _, r in ROUTES])
def test_every_declared_route_is_a_method_integrated_with_its_function(
    synth: Synthesized, spec, route
):
    # Given the declared route and the resource tree of the synthesized API
    resource_id = {path: rid for rid, path in _resource_paths(synth).items()}[route.path]
    function_id = _function_id(synth, spec.name)

    # Then exactly one method serves it, proxying to the declared function with the
    # declared authorization
    methods = synth.template.find_resources(
        "AWS::ApiGateway::Method",
        {
            "Properties": {
                "HttpMethod": route.method,
                "ResourceId": {"Ref": resource_id},
                "AuthorizationType": "AWS_IAM" if route.auth == "admin" else "NONE",
                "Integration": Match.object_like(
                    {
                        "Type": "AWS_PROXY",
                        "IntegrationHttpMethod": "POST",
                        "Uri": {
                            "Fn::Join": [
                                "",
                                Match.array_with([{"Fn::GetAtt": [function_id, "Arn"]}]),
                            ]
                        },
                    }
                ),
            }
        },
    )
    assert len(methods) == 1


def test_the_api_has_exactly_the_declared_methods_and_no_cloud_health_route(
    synth: Synthesized,
):
    # Given the resource paths
    paths = _resource_paths(synth)
    # When the template's methods are listed as "METHOD /path"
    declared = {f"{r.method} {r.path}" for _, r in ROUTES}
    found = set()
    for props in (v["Properties"] for v in synth.of_type("AWS::ApiGateway::Method").values()):
        resource = props["ResourceId"]
        path = paths[resource["Ref"]] if "Ref" in resource else "/"
        found.add(f"{props['HttpMethod']} {path}")
    # Then they are the declared routes, and /health exists only locally
    assert found == declared
    assert not any(path == "/health" for path in paths.values())


@pytest.mark.parametrize(
    ("spec", "trigger"), TRIGGERS, ids=[f"{s.name}<-{t.queue.value}" for s, t in TRIGGERS]
)
def test_every_queue_trigger_is_a_partial_batch_event_source(synth: Synthesized, spec, trigger):
    # Given the consumer and its queue
    queue_spec = next(q for q in QUEUES if q.name == trigger.queue)
    queue_id = _queue_id(synth, queue_spec.physical_suffix)
    function_id = _function_id(synth, spec.name)
    expected = {
        "FunctionName": {"Ref": function_id},
        "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
        "BatchSize": trigger.batch_size,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    if trigger.max_batching_window_seconds:
        expected["MaximumBatchingWindowInSeconds"] = trigger.max_batching_window_seconds
    # pollers: the trigger's own limit, else never more than the function may run
    pollers = trigger.max_concurrency or spec.reserved_concurrency
    if pollers >= 2:
        expected["ScalingConfig"] = {"MaximumConcurrency": pollers}
    # Then one event source mapping connects them with partial batch responses on
    synth.template.resource_properties_count_is("AWS::Lambda::EventSourceMapping", expected, 1)


def test_every_event_source_mapping_is_declared(synth: Synthesized):
    mappings = synth.of_type("AWS::Lambda::EventSourceMapping")
    assert len(mappings) == len(TRIGGERS)
    for mapping in mappings.values():
        assert mapping["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


@pytest.mark.parametrize(
    ("spec", "schedule"), SCHEDULES, ids=[f"{s.name}:{x.name}" for s, x in SCHEDULES]
)
def test_every_schedule_is_a_rule_targeting_its_function(synth: Synthesized, spec, schedule):
    function_id = _function_id(synth, spec.name)
    synth.template.resource_properties_count_is(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": schedule.expression,
            "State": "ENABLED",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {"Fn::GetAtt": [function_id, "Arn"]},
                        "Input": Match.serialized_json(dict(schedule.payload)),
                    }
                )
            ],
        },
        1,
    )


@pytest.mark.parametrize("queue", SUBSCRIBED, ids=[q.name.value for q in SUBSCRIBED])
def test_every_queue_subscription_is_a_bus_rule_targeting_the_queue(synth: Synthesized, queue):
    # Given the custom bus and the subscribing queue
    bus_id = logical_id_by_property(
        synth, "AWS::Events::EventBus", "Name", constants.physical_name(STAGE, "bus")
    )
    queue_id = _queue_id(synth, queue.physical_suffix)
    target: dict[str, Any] = {"Arn": {"Fn::GetAtt": [queue_id, "Arn"]}}
    if queue.fifo:
        target["SqsParameters"] = {"MessageGroupId": constants.EVENTS_MESSAGE_GROUP}
    # Then a rule on that bus delivers exactly the declared detail-types into it
    synth.template.resource_properties_count_is(
        "AWS::Events::Rule",
        {
            "EventBusName": {"Ref": bus_id},
            "EventPattern": {
                "source": [EVENT_SOURCE],
                "detail-type": list(queue.subscribes_to),
            },
            "Targets": [Match.object_like(target)],
        },
        1,
    )


def test_every_lambda_in_the_template_is_declared(synth: Synthesized):
    # Given every function the template deploys (none generated by CDK helpers)
    names = [
        p["Properties"]["FunctionName"] for p in synth.of_type("AWS::Lambda::Function").values()
    ]
    # Then they are exactly the declared ones
    assert sorted(names) == sorted(constants.physical_name(STAGE, s.name) for s in FUNCTIONS)


def test_the_bus_has_an_archive_for_replay(synth: Synthesized):
    bus_id = logical_id_by_property(
        synth, "AWS::Events::EventBus", "Name", constants.physical_name(STAGE, "bus")
    )
    synth.template.has_resource_properties(
        "AWS::Events::Archive",
        {
            "SourceArn": {"Fn::GetAtt": [bus_id, "Arn"]},
            "EventPattern": {"source": [EVENT_SOURCE]},
            "RetentionDays": constants.EVENT_ARCHIVE_RETENTION_DAYS,
        },
    )


def test_schedule_payloads_are_json_objects(synth: Synthesized):
    # Scheduled handlers parse the input as an object; a bare string would break them.
    for rule in synth.of_type("AWS::Events::Rule").values():
        for target in rule["Properties"].get("Targets", []):
            if "Input" in target:
                assert isinstance(json.loads(target["Input"]), dict)


def test_every_eventbridge_rule_is_a_declared_schedule_subscription_or_counter(
    synth: Synthesized,
):
    rules = synth.of_type("AWS::Events::Rule").values()
    schedules = sorted(
        r["Properties"]["ScheduleExpression"]
        for r in rules
        if "ScheduleExpression" in r["Properties"]
    )
    targeted = [
        r for r in rules if "EventPattern" in r["Properties"] and r["Properties"].get("Targets")
    ]
    counters = [
        r for r in rules if "EventPattern" in r["Properties"] and not r["Properties"].get("Targets")
    ]
    assert schedules == sorted(s.expression for _, s in SCHEDULES)
    assert len(targeted) == len(SUBSCRIBED)
    assert sorted(r["Properties"]["EventPattern"]["detail-type"][0] for r in counters) == sorted(
        constants.COUNTED_EVENTS
    )
