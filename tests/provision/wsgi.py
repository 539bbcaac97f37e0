"""A WSGI face for the admin API handler, so HTTP tools (schemathesis) can drive it in-process.

Each request becomes the API Gateway REST proxy event the Lambda would receive.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from tests.provision.apigw import lambda_context, rest_event

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def admin_wsgi_app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    from functions.provision.handlers import admin_api

    path = environ.get("PATH_INFO") or "/"
    if path == "/openapi.json":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [admin_api.app.get_openapi_json_schema().encode()]
    length = int(environ.get("CONTENT_LENGTH") or 0)
    raw = environ["wsgi.input"].read(length).decode("utf-8", "replace") if length else None
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    if environ.get("CONTENT_TYPE"):
        headers["Content-Type"] = environ["CONTENT_TYPE"]
    query = dict(parse_qsl(environ.get("QUERY_STRING") or "", keep_blank_values=True))
    event = rest_event(
        environ["REQUEST_METHOD"], path, raw_body=raw, query=query or None, headers=headers
    )
    if raw is None:
        event["body"] = None
    result = admin_api.handler(event, lambda_context())
    status = int(result["statusCode"])
    out_headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for key, values in (result.get("multiValueHeaders") or {}).items():
        out_headers += [(key, str(v)) for v in values]
    start_response(f"{status} {HTTPStatus(status).phrase}", out_headers)
    answer = result.get("body") or ""
    return [answer.encode() if isinstance(answer, str) else json.dumps(answer).encode()]
