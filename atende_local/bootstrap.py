"""Create the platform's AWS resources from the declared wiring, against moto.

The same declarations the CDK app reads (``functions.wiring``) decide which tables,
queues, DLQs, bus rules and buckets exist; nothing here is a second hand-kept list. The
returned mapping is the environment a function sees in AWS (table names, queue URLs...).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from atende_shared.aws import client
from atende_shared.resources import (
    EVENT_BUS_ENV,
    EVENT_SOURCE,
    bucket_env,
    queue_url_env,
    table_env,
)
from functions.wiring import BUCKETS, QUEUES, TABLES
from functions.wiring_model import QueueSpec, TableSpec

_DAY = 86_400


@dataclass(frozen=True)
class QueueHandle:
    """A created queue and its DLQ."""

    spec: QueueSpec
    url: str
    arn: str
    dlq_url: str
    dlq_arn: str


@dataclass
class LocalResources:
    """What :func:`create_resources` made, and the environment that names it."""

    prefix: str
    env: dict[str, str] = field(default_factory=dict)
    queues: dict[str, QueueHandle] = field(default_factory=dict)
    tables: dict[str, str] = field(default_factory=dict)
    buckets: dict[str, str] = field(default_factory=dict)
    bus_name: str = ""


def _create_table(spec: TableSpec, name: str) -> None:
    ddb = client("dynamodb")
    attributes = {spec.partition_key}
    key_schema = [{"AttributeName": spec.partition_key, "KeyType": "HASH"}]
    if spec.sort_key:
        attributes.add(spec.sort_key)
        key_schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
    gsis: list[dict[str, Any]] = []
    for index_name, pk, sk in spec.gsis:
        attributes.update((pk, sk))
        gsis.append(
            {
                "IndexName": index_name,
                "KeySchema": [
                    {"AttributeName": pk, "KeyType": "HASH"},
                    {"AttributeName": sk, "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        )
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": key_schema,
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
    }
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    ddb.create_table(**request)
    if spec.ttl_attribute:
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl_attribute},
        )


def _create_queue(spec: QueueSpec, prefix: str) -> QueueHandle:
    sqs = client("sqs")
    fifo_attributes = {"FifoQueue": "true"} if spec.fifo else {}
    dlq_name = f"{prefix}-{spec.name.value}-dlq" + (".fifo" if spec.fifo else "")
    dlq_url = sqs.create_queue(
        QueueName=dlq_name,
        Attributes={
            "MessageRetentionPeriod": str(spec.dlq_retention_days * _DAY),
            **fifo_attributes,
        },
    )["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    url = sqs.create_queue(
        QueueName=f"{prefix}-{spec.physical_suffix}",
        Attributes={
            "VisibilityTimeout": str(spec.visibility_timeout_seconds),
            "MessageRetentionPeriod": str(spec.retention_days * _DAY),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
            ),
            **fifo_attributes,
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return QueueHandle(spec=spec, url=url, arn=arn, dlq_url=dlq_url, dlq_arn=dlq_arn)


def _subscribe(handle: QueueHandle, bus_name: str, prefix: str) -> None:
    events = client("events")
    rule = f"{prefix}-{handle.spec.name.value}-subscriptions"
    events.put_rule(
        Name=rule,
        EventBusName=bus_name,
        EventPattern=json.dumps(
            {"source": [EVENT_SOURCE], "detail-type": list(handle.spec.subscribes_to)}
        ),
    )
    target: dict[str, Any] = {"Id": "queue", "Arn": handle.arn}
    if handle.spec.fifo:
        target["SqsParameters"] = {"MessageGroupId": "events"}
    events.put_targets(Rule=rule, EventBusName=bus_name, Targets=[target])


def create_resources(prefix: str = "atende-local") -> LocalResources:
    """Create every declared table, queue (+DLQ), bus rule and bucket; return their env."""
    made = LocalResources(prefix=prefix)
    for table_spec in TABLES:
        name = f"{prefix}-{table_spec.name.value}"
        _create_table(table_spec, name)
        made.tables[table_spec.name.value] = name
        made.env[table_env(table_spec.name)] = name

    made.bus_name = f"{prefix}-bus"
    client("events").create_event_bus(Name=made.bus_name)
    made.env[EVENT_BUS_ENV] = made.bus_name

    for queue_spec in QUEUES:
        handle = _create_queue(queue_spec, prefix)
        made.queues[queue_spec.name.value] = handle
        made.env[queue_url_env(queue_spec.name)] = handle.url
        if queue_spec.subscribes_to:
            _subscribe(handle, made.bus_name, prefix)

    for bucket in BUCKETS:
        name = f"{prefix}-{bucket.value}"
        client("s3").create_bucket(Bucket=name)
        made.buckets[bucket.value] = name
        made.env[bucket_env(bucket)] = name
    return made
