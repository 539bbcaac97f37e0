"""Correlation ids follow a message across SQS; domain errors map to HTTP in one place."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest

from atende_local.bootstrap import LocalResources
from atende_shared.aws import client
from atende_shared.errors import Conflict, StorageError
from atende_shared.http import build_resolver, documented_responses
from atende_shared.messaging import SqsQueueSender
from atende_shared.observability import (
    correlation_id_from_sqs_record,
    instrumented,
    logger,
)


@dataclass
class _Context:
    function_name: str = "test-fn"
    memory_limit_in_mb: int = 128
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-fn"
    aws_request_id: str = "req-1"


def _sqs_event_from(aws: LocalResources, queue: str) -> dict:
    messages = client("sqs").receive_message(
        QueueUrl=aws.queues[queue].url,
        MessageAttributeNames=["All"],
        MaxNumberOfMessages=10,
    )["Messages"]
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "body": m["Body"],
                "messageAttributes": {
                    name: {"stringValue": attr["StringValue"], "dataType": attr["DataType"]}
                    for name, attr in m.get("MessageAttributes", {}).items()
                },
            }
            for m in messages
        ]
    }


def test_the_correlation_id_travels_with_the_message_into_the_consumers_logs(aws):
    # Given a producer that enqueues with a correlation id
    SqsQueueSender().send(
        aws.queues["calls"].url, '{"hello": 1}', correlation_id="corr-42", group_id=None
    )
    event = _sqs_event_from(aws, "calls")

    # And a consumer wearing the standard decorator stack
    @instrumented()
    def consumer(event, context):
        for record in event["Records"]:
            logger.set_correlation_id(correlation_id_from_sqs_record(record))
            logger.warning("consumed", extra={"body": record["body"]})
        return "ok"

    # When the consumer runs (its JSON log captured from the Powertools handler)
    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        assert consumer(event, _Context()) == "ok"
    finally:
        logger.registered_handler.setStream(previous)

    # Then its JSON log line carries the producer's correlation id
    lines = [json.loads(line) for line in buffer.getvalue().splitlines() if "consumed" in line]
    assert lines, "the consumer logged nothing"
    assert lines[0]["correlation_id"] == "corr-42"
    assert lines[0]["function_name"] == "test-fn"
    assert lines[0]["service"] == "atende-tests"  # POWERTOOLS_SERVICE_NAME


def test_fifo_queues_refuse_a_message_without_a_group(aws):
    import pytest

    with pytest.raises(ValueError, match="message group"):
        SqsQueueSender().send(aws.queues["payments"].url, "{}", correlation_id="c")


def _api_event(path: str, method: str = "GET") -> dict:
    return {
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {"content-type": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "pathParameters": None,
        "requestContext": {"requestId": "rid-7", "stage": "local", "resourcePath": path},
        "body": None,
        "isBase64Encoded": False,
    }


def test_domain_errors_become_their_status_with_a_safe_body():
    app = build_resolver(title="test")

    @app.get("/conflict")
    def conflict() -> dict:
        raise Conflict("number +551130000000 belongs to another tenant")

    @app.get("/storage")
    def storage() -> dict:
        raise StorageError("put_item failed: secret internal detail")

    answer = app.resolve(_api_event("/conflict"), _Context())
    assert answer["statusCode"] == 409
    body = json.loads(answer["body"])
    assert body["error"]["code"] == "conflict"
    assert "another tenant" in body["error"]["message"]
    assert body["correlation_id"] == "rid-7"

    answer = app.resolve(_api_event("/storage"), _Context())
    assert answer["statusCode"] == 503
    assert "secret internal detail" not in answer["body"]


def test_unknown_routes_answer_the_platforms_404_body():
    app = build_resolver(title="test")
    answer = app.resolve(_api_event("/nowhere"), _Context())
    assert answer["statusCode"] == 404
    assert json.loads(answer["body"])["error"]["code"] == "not_found"


def test_documented_error_answers_use_the_platforms_error_body():
    app = build_resolver(title="test")

    @app.get("/thing", responses=documented_responses(200, "the thing", 404))
    def thing() -> dict:
        return {}

    schema = json.loads(app.get_openapi_json_schema())
    answers = schema["paths"]["/thing"]["get"]["responses"]
    assert set(answers) == {"200", "400", "404", "422", "503"}
    for status in ("400", "404", "422", "503"):
        ref = answers[status]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/ErrorBody")


_DECORATE = """
import sys
from atende_shared.observability import instrumented

@instrumented()
def handler(event, context):
    return event

print("aws_xray_sdk.core" in sys.modules)
"""


@pytest.mark.parametrize(
    ("extra_env", "xray_loaded"),
    [
        ({"AWS_LAMBDA_FUNCTION_NAME": "fn"}, True),  # in Lambda, tracing on: the SDK traces
        ({"AWS_LAMBDA_FUNCTION_NAME": "fn", "POWERTOOLS_TRACE_DISABLED": "true"}, False),
        ({}, False),  # outside Lambda (tests, the local platform): never loaded
    ],
    ids=["lambda", "lambda-trace-disabled", "outside-lambda"],
)
def test_the_xray_sdk_is_loaded_only_where_tracing_is_on(
    extra_env: dict[str, str], xray_loaded: bool
) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED", "AWS_SAM_LOCAL"}
    }
    answer = subprocess.run(
        [sys.executable, "-c", _DECORATE],
        env={**env, **extra_env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert answer.stdout.strip() == str(xray_loaded)
