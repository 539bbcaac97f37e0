"""The admin API client behind the ``atende`` CLI.

Locally it sends ``Authorization: Bearer <token>``; against a deployed stack's API URL
(``https://<id>.execute-api.<region>.amazonaws.com/<stage>``) it signs every request with
SigV4 using the default AWS credential chain, since those routes are IAM-authorized.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

_EXECUTE_API = re.compile(r"^[a-z0-9]+\.execute-api\.(?P<region>[a-z0-9-]+)\.amazonaws\.com$")


class ApiError(Exception):
    """The admin API answered an error (or could not be reached)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


def aws_region_of(url: str) -> str | None:
    """The region of an API Gateway URL, or None for anything else (a local gateway)."""
    match = _EXECUTE_API.match(urlsplit(url).hostname or "")
    return match.group("region") if match else None


@dataclass
class AdminClient:
    base_url: str
    token: str | None = None
    timeout: float = 30.0

    @property
    def is_aws(self) -> bool:
        return aws_region_of(self.base_url) is not None

    def _sign(self, method: str, url: str, body: bytes, headers: dict[str, str]) -> None:
        import boto3  # only for deployed stacks
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = boto3.Session().get_credentials()
        if credentials is None:
            raise ApiError("no AWS credentials found to sign the request (default chain)")
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        region = aws_region_of(url) or "us-east-1"
        SigV4Auth(credentials.get_frozen_credentials(), "execute-api", region).add_auth(request)
        headers.update(dict(request.headers.items()))

    def request(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        extra_headers: dict[str, str] | None = None,
    ) -> Any:
        url = self.base_url.rstrip("/") + path
        body = b"" if payload is None else json.dumps(payload).encode("utf-8")
        headers = {"Accept": "application/json", **(extra_headers or {})}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        if self.is_aws:
            self._sign(method, url, body, headers)
        elif self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            response = httpx.request(
                method, url, content=body or None, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            raise ApiError(f"cannot reach {self.base_url}: {exc}") from exc
        try:
            data: Any = response.json() if response.content else None
        except ValueError:
            data = response.text
        if response.status_code >= 400:
            message = _error_message(data) or response.reason_phrase
            raise ApiError(
                f"{method} {path} → {response.status_code}: {message}",
                status=response.status_code,
                body=data,
            )
        return data

    def get(self, path: str) -> Any:
        return self.request("GET", path)

    def post(self, path: str, payload: Any = None) -> Any:
        return self.request("POST", path, payload)


def field_errors(body: Any) -> list[tuple[str, str]]:
    """The field-level problems of a 422 in the platform's error body:
    ``[("body.amount_cents", "Input should be a valid integer"), ...]``."""
    if not isinstance(body, dict):
        return []
    error = body.get("error")
    details = error.get("details") if isinstance(error, dict) else None
    fields = details.get("fields") if isinstance(details, dict) else None
    found: list[tuple[str, str]] = []
    for entry in fields if isinstance(fields, list) else []:
        if isinstance(entry, dict):
            found.append((str(entry.get("field") or "?"), str(entry.get("problem") or "")))
    return found


def _error_message(data: Any) -> str | None:
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and error.get("message"):
            return str(error["message"])
        if data.get("message"):
            return str(data["message"])
    if isinstance(data, str) and data:
        return data[:300]
    return None
