"""Build API Gateway REST proxy events and call the admin API handler like API Gateway."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import quote

from aws_lambda_powertools.utilities.typing import LambdaContext


@dataclass
class LambdaContextStub:
    function_name: str = "provision-admin-api"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:provision-admin-api"
    aws_request_id: str = "req-1"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def rest_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A REST (v1) proxy event as API Gateway sends it to a ``{proxy+}`` integration."""
    text = raw_body if raw_body is not None else (None if body is None else json.dumps(body))
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    request_id = str(uuid.uuid4())
    return {
        "resource": "/{proxy+}",
        "path": path,
        "httpMethod": method,
        "headers": all_headers,
        "multiValueHeaders": {k: [v] for k, v in all_headers.items()},
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": {k: [v] for k, v in (query or {}).items()} or None,
        "pathParameters": {"proxy": path.lstrip("/")},
        "stageVariables": None,
        "requestContext": {
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "path": f"/local{path}",
            "stage": "local",
            "requestId": request_id,
            "identity": {"sourceIp": "127.0.0.1"},
            "accountId": "123456789012",
            "apiId": "local",
        },
        "body": text,
        "isBase64Encoded": False,
    }


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]


def call(handler: Any, method: str, path: str, **kwargs: Any) -> Answer:
    """Invoke ``handler`` with a REST proxy event and decode its JSON answer."""
    result = handler(rest_event(method, path, **kwargs), LambdaContextStub())
    text = result.get("body") or ""
    try:
        decoded = json.loads(text) if text else None
    except json.JSONDecodeError:
        decoded = text
    return Answer(int(result["statusCode"]), decoded, dict(result.get("headers") or {}))


def number_path(tenant_id: str, number: str) -> str:
    return f"/v1/tenants/{tenant_id}/phone-numbers/{quote(number, safe='')}"


def lambda_context() -> LambdaContext:
    """A Lambda context good enough for Powertools' logger/metrics decorators."""
    return cast(LambdaContext, LambdaContextStub())
