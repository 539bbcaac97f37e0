"""In-process plumbing for handler tests: HTTP → API Gateway events → handlers, and the
catalog FIFO queue drained into the catalog consumer."""

from __future__ import annotations

import json
from typing import Any

import httpx

from atende_local.apigw import RouteMatch, api_event, declared_routes
from atende_shared.aws import client
from tests.sync.conftest import lambda_context


def apigw_event(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None):
    """The API Gateway event for a sync route (the one builder the local gateway uses too)
    and the handler the wiring names for it."""
    found = declared_routes().match(method, path.split("?", 1)[0])
    if not isinstance(found, RouteMatch) or found.entry.function.domain != "sync":
        raise LookupError(f"no sync route for {method} {path}")
    sent = {"Content-Type": "application/json", **(headers or {})}
    return api_event(method, path, body=body, headers=sent), found.entry.function.handler


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
