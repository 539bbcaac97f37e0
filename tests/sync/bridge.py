"""In-process plumbing for handler tests: HTTP → API Gateway events → handlers, and the
catalog FIFO queue drained into the catalog consumer."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx

from atende_shared.aws import client
from functions.wiring import FUNCTIONS
from tests.sync.conftest import lambda_context


def _routes() -> list[tuple[re.Pattern[str], str, str, list[str], str]]:
    table: list[tuple[re.Pattern[str], str, str, list[str], str]] = []
    for spec in FUNCTIONS:
        if spec.domain != "sync":
            continue
        for route in spec.routes:
            names = route.path_parameters
            pattern = re.compile("^" + re.sub(r"{[A-Za-z0-9_]+}", "([^/]+)", route.path) + "$")
            table.append((pattern, route.method, route.path, names, spec.handler))
    return table


def apigw_event(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    for pattern, verb, resource, names, handler in _routes():  # noqa: B007 - used after break
        match = pattern.match(path)
        if match and verb == method:
            break
    else:
        raise LookupError(f"no sync route for {method} {path}")
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    event = {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Content-Type": "application/json", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": dict(zip(names, match.groups(), strict=True)),
        "stageVariables": None,
        "requestContext": {
            "requestId": uuid.uuid4().hex,
            "stage": "local",
            "path": path,
            "httpMethod": method,
            "resourcePath": resource,
        },
        "body": raw,
        "isBase64Encoded": False,
    }
    return event, handler


def call(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    """Invoke the sync route's real handler; returns (status, json body)."""
    import importlib

    event, handler_path = apigw_event(method, path, body, headers)
    module, attribute = handler_path.rsplit(".", 1)
    handler = getattr(importlib.import_module(module), attribute)
    answer = handler(event, lambda_context())
    return answer["statusCode"], json.loads(answer["body"] or "null")


def transport() -> httpx.MockTransport:
    """An httpx transport that serves the sync routes in-process (for the extractor)."""

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = call(
            request.method,
            request.url.path,
            request.content.decode() or None,
            {k.title(): v for k, v in request.headers.items() if k.lower() == "authorization"},
        )
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def drain_catalog(url: str, *, rounds: int = 50) -> list[dict[str, Any]]:
    """Feed every message on the catalog queue to the real consumer; returns its answers."""
    from functions.sync.handlers.catalog import handler

    sqs = client("sqs")
    answers = []
    for _ in range(rounds):
        got = sqs.receive_message(
            QueueUrl=url,
            MaxNumberOfMessages=1,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
            VisibilityTimeout=0,
        ).get("Messages", [])
        if not got:
            break
        message = got[0]
        record = {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": message.get("Attributes", {}),
            "messageAttributes": {
                k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                for k, v in message.get("MessageAttributes", {}).items()
            },
            "eventSource": "aws:sqs",
        }
        answer = handler({"Records": [record]}, lambda_context("sync-catalog", 240))
        answers.append(answer)
        if not answer["batchItemFailures"]:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        else:
            break  # FIFO: a failed message blocks its group; the test decides what next
    return answers


def empty_queue(url: str) -> None:
    """Delete whatever earlier tests left (PurgeQueue is limited to once a minute)."""
    sqs = client("sqs")
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
            "Messages", []
        )
        if not got:
            return
        for message in got:
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
