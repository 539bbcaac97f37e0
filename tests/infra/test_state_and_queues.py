"""Every queue has its DLQ and alarms; every table has PITR and TTL; the bucket is private."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from functions.wiring import FUNCTIONS, QUEUES, TABLES
from infra_cdk import constants

from .conftest import STAGE, Synthesized, logical_id_by_property

pytestmark = pytest.mark.infra

_DAY = 86_400


def _queue_id(synth: Synthesized, suffix: str) -> str:
    return logical_id_by_property(
        synth, "AWS::SQS::Queue", "QueueName", constants.physical_name(STAGE, suffix)
    )


@pytest.mark.parametrize("queue", QUEUES, ids=[q.name.value for q in QUEUES])
def test_every_queue_redrives_to_its_dlq_with_the_declared_max_receives(synth: Synthesized, queue):
    # Given the work queue and its DLQ (same FIFO-ness, longest retention)
    fifo = ".fifo" if queue.fifo else ""
    dlq_id = _queue_id(synth, f"{queue.name.value}-dlq{fifo}")
    queue_id = _queue_id(synth, queue.physical_suffix)
    # Then the queue carries the declared settings and redrive policy
    expected = {
        "RedrivePolicy": {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq_id, "Arn"]},
            "maxReceiveCount": queue.max_receive_count,
        },
        "VisibilityTimeout": queue.visibility_timeout_seconds,
        "MessageRetentionPeriod": queue.retention_days * _DAY,
        "SqsManagedSseEnabled": True,
    }
    if queue.fifo:
        expected["FifoQueue"] = True
    assert synth.template.find_resources("AWS::SQS::Queue", {"Properties": expected}).keys() == {
        queue_id
    }
    synth.template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": constants.physical_name(STAGE, f"{queue.name.value}-dlq{fifo}"),
            "MessageRetentionPeriod": queue.dlq_retention_days * _DAY,
            "FifoQueue": True if queue.fifo else Match.absent(),
        },
    )


def test_no_queue_exists_outside_the_wiring_and_every_queue_has_a_dlq_or_is_one(
    synth: Synthesized,
):
    queues = synth.of_type("AWS::SQS::Queue")
    dlq_ids = {
        q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for q in queues.values()
        if "RedrivePolicy" in q["Properties"]
    }
    work_ids = {k for k, q in queues.items() if "RedrivePolicy" in q["Properties"]}
    # and the one failure destination of the scheduled functions (async invocations)
    schedule_failures = {
        k
        for k, q in queues.items()
        if q["Properties"].get("QueueName") == f"atende-{STAGE}-schedule-failures"
    }
    assert len(work_ids) == len(QUEUES)
    assert len(schedule_failures) == 1
    assert set(queues) == work_ids | dlq_ids | schedule_failures


def test_every_queue_requires_tls(synth: Synthesized):
    policies = synth.of_type("AWS::SQS::QueuePolicy").values()
    guarded = set()
    for policy in policies:
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            if statement.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}:
                assert statement["Effect"] == "Deny"
                guarded |= {q["Ref"] for q in policy["Properties"]["Queues"]}
    assert guarded == set(synth.of_type("AWS::SQS::Queue"))


@pytest.mark.parametrize("queue", QUEUES, ids=[q.name.value for q in QUEUES])
def test_every_dlq_and_queue_age_has_an_alarm(synth: Synthesized, queue):
    fifo = ".fifo" if queue.fifo else ""
    dlq_name = constants.physical_name(STAGE, f"{queue.name.value}-dlq{fifo}")
    queue_name = constants.physical_name(STAGE, queue.physical_suffix)
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Namespace": "AWS/SQS",
            "Dimensions": [{"Name": "QueueName", "Value": Match.any_value()}],
            "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold",
            "AlarmActions": Match.any_value(),
            "AlarmName": constants.physical_name(STAGE, f"{queue.name.value}-dlq-not-empty"),
        },
    )
    synth.template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "MetricName": "ApproximateAgeOfOldestMessage",
            "AlarmName": constants.physical_name(STAGE, f"{queue.name.value}-oldest-message"),
        },
    )
    assert dlq_name
    assert queue_name


def test_queue_visibility_covers_the_consumer_timeout():
    # SQS would hand a message to a second consumer while the first still works on it.
    for spec in FUNCTIONS:
        for trigger in spec.queues:
            queue = next(q for q in QUEUES if q.name == trigger.queue)
            assert queue.visibility_timeout_seconds >= spec.timeout_seconds, spec.name


@pytest.mark.parametrize("table", TABLES, ids=[t.name.value for t in TABLES])
def test_every_table_has_pitr_ttl_on_demand_and_its_keys(synth: Synthesized, table):
    key_schema = [{"AttributeName": table.partition_key, "KeyType": "HASH"}]
    if table.sort_key:
        key_schema.append({"AttributeName": table.sort_key, "KeyType": "RANGE"})
    expected: dict[str, Any] = {
        "TableName": constants.physical_name(STAGE, table.name.value),
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
        "TimeToLiveSpecification": {"AttributeName": table.ttl_attribute, "Enabled": True},
    }
    if table.gsis:
        expected["GlobalSecondaryIndexes"] = [
            Match.object_like(
                {
                    "IndexName": name,
                    "KeySchema": [
                        {"AttributeName": pk, "KeyType": "HASH"},
                        {"AttributeName": sk, "KeyType": "RANGE"},
                    ],
                }
            )
            for name, pk, sk in table.gsis
        ]
    synth.template.has_resource_properties("AWS::DynamoDB::Table", expected)
    synth.template.has_resource("AWS::DynamoDB::Table", {"DeletionPolicy": "Retain"})


def test_every_table_in_the_template_has_pitr_and_ttl(synth: Synthesized):
    tables = synth.of_type("AWS::DynamoDB::Table")
    assert len(tables) == len(TABLES)
    for table in tables.values():
        props = table["Properties"]
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["TimeToLiveSpecification"]["Enabled"] is True


def test_the_artifacts_bucket_is_private_encrypted_tls_only_and_has_lifecycle(
    synth: Synthesized,
):
    synth.template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "LoggingConfiguration": Match.object_like({"LogFilePrefix": "artifacts/"}),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Prefix": constants.TRANSCRIPTS_PREFIX,
                                "Transitions": [
                                    {
                                        "StorageClass": "STANDARD_IA",
                                        "TransitionInDays": constants.TRANSCRIPTS_TO_IA_DAYS,
                                    }
                                ],
                            }
                        ),
                        Match.object_like(
                            {
                                "Prefix": constants.QUARANTINE_PREFIX,
                                "ExpirationInDays": constants.QUARANTINE_EXPIRY_DAYS,
                            }
                        ),
                    ]
                )
            },
        },
    )
    for policy in synth.of_type("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_business_events_are_counted_and_business_failures_page_someone(synth: Synthesized):
    # Given target-less rules on the bus, EventBridge counts each domain event
    for detail_type in constants.COUNTED_EVENTS:
        synth.template.has_resource_properties(
            "AWS::Events::Rule",
            {
                "EventPattern": {"source": ["atende"], "detail-type": [detail_type]},
                "Targets": Match.absent(),
            },
        )
    # And the failures other code reports as metrics raise alarms on the SNS topic
    declared = {spec.name for spec in FUNCTIONS}
    for function_name, metric_name, _ in constants.BUSINESS_ALARMS:
        if function_name in declared:
            synth.template.has_resource_properties(
                "AWS::CloudWatch::Alarm",
                {
                    "Namespace": constants.METRICS_NAMESPACE,
                    "MetricName": metric_name,
                    "Dimensions": [{"Name": "service", "Value": function_name}],
                    "AlarmActions": [{"Ref": Match.any_value()}],
                },
            )


def test_the_dashboard_exists_with_the_platform_widgets(synth: Synthesized):
    dashboards = synth.of_type("AWS::CloudWatch::Dashboard")
    assert len(dashboards) == 1
    body = str(next(iter(dashboards.values()))["Properties"]["DashboardBody"])
    for title in ("Webhooks and admin API", "Calls in progress", "DLQ depth", "Lambda errors"):
        assert title in body
