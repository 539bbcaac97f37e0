"""The local resources are created from the wiring, with DLQs, TTL and subscriptions."""

from __future__ import annotations

import json

from atende_local.bootstrap import LocalResources
from atende_shared.aws import client
from atende_shared.events import CallUsageReported, to_put_events_entry
from functions.wiring import QUEUES, TABLES


def test_every_declared_queue_has_a_redrive_to_its_dlq(aws: LocalResources) -> None:
    sqs = client("sqs")
    for spec in QUEUES:
        handle = aws.queues[spec.name.value]
        attributes = sqs.get_queue_attributes(QueueUrl=handle.url, AttributeNames=["All"])[
            "Attributes"
        ]
        redrive = json.loads(attributes["RedrivePolicy"])
        assert redrive["deadLetterTargetArn"] == handle.dlq_arn
        assert int(redrive["maxReceiveCount"]) == spec.max_receive_count
        assert handle.url.endswith(".fifo") == spec.fifo


def test_every_declared_table_exists_with_ttl(aws: LocalResources) -> None:
    ddb = client("dynamodb")
    for spec in TABLES:
        name = aws.tables[spec.name.value]
        ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
        assert ttl["AttributeName"] == spec.ttl_attribute
        assert ttl["TimeToLiveStatus"] == "ENABLED"


def test_a_subscribed_event_reaches_its_queue(aws: LocalResources) -> None:
    # Given the calls queue subscribes to CallUsageReported on the bus
    event = CallUsageReported(
        tenant_id="demo-pizzaria",
        correlation_id="corr-1",
        call_id="call-1",
        stt_audio_seconds=12.5,
        llm_prompt_tokens=100,
        llm_completion_tokens=20,
        tts_characters=300,
    )
    # When it is published
    client("events").put_events(Entries=[to_put_events_entry(event, bus_name=aws.bus_name)])
    # Then the queue holds it, detail intact
    messages = client("sqs").receive_message(
        QueueUrl=aws.queues["calls"].url, MaxNumberOfMessages=10
    )["Messages"]
    assert len(messages) == 1
    envelope = json.loads(messages[0]["Body"])
    assert envelope["detail-type"] == "CallUsageReported"
    assert CallUsageReported.model_validate(envelope["detail"]) == event
