"""One webhook delivery as ingress sees it, built from an API Gateway REST proxy event.

The body is kept as the exact bytes API Gateway received (base64-decoded when
``isBase64Encoded``): every signature is computed over those bytes, never over a
re-decoded or re-serialised string.
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from atende_shared.errors import MalformedRequest, PayloadTooLarge
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.observability import CORRELATION_HEADER
from atende_shared.resources import Queue

_CORRELATION = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")


@dataclass(frozen=True)
class Delivery:
    """The parts of an HTTP request a provider adapter may look at."""

    provider: Provider
    body: bytes
    headers: Mapping[str, str]  # names lower-cased
    path: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    correlation_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def header(self, name: str) -> str | None:
        value = self.headers.get(name.lower())
        return value if value else None

    @property
    def tenant_id(self) -> str | None:
        return self.path.get("tenant_id")


@dataclass(frozen=True)
class Accepted:
    """A delivery normalised into an envelope, and the queue it goes to."""

    event: InboundEvent
    queue: Queue
    #: Orders a FIFO queue finer than per tenant: the WhatsApp conversation (its chat id),
    #: so one customer's messages are handled in order while other customers run alongside.
    group_key: str | None = None


@dataclass(frozen=True)
class Ignored:
    """An authentic delivery that carries nothing for us (an echo, a foreign room)."""

    reason: str


@dataclass(frozen=True)
class Batch:
    """One authentic delivery carrying several events (LiveKit ``batched``): each is
    de-duplicated and enqueued on its own."""

    items: tuple[Accepted | Ignored, ...]


Normalised = Accepted | Ignored | Batch


def _str_map(value: Any, *, lower: bool = False) -> dict[str, str]:
    if not isinstance(value, Mapping):
        return {}
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(key, str) and isinstance(item, str):
            out[key.lower() if lower else key] = item
    return out


def raw_body(event: Mapping[str, Any], *, max_bytes: int) -> bytes:
    """The body bytes API Gateway received; 413 past ``max_bytes``, 400 for bad base64.

    The size is checked on the encoded form first, so an oversized body is refused without
    being decoded.
    """
    body = event.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedRequest("request body is not text")
    if event.get("isBase64Encoded"):
        if len(body) > (max_bytes + 2) // 3 * 4 + 4:
            raise PayloadTooLarge(f"body exceeds {max_bytes} bytes")
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MalformedRequest("request body is not valid base64") from exc
    else:
        if len(body) > max_bytes:  # each character is at least one byte
            raise PayloadTooLarge(f"body exceeds {max_bytes} bytes")
        try:
            data = body.encode("utf-8")
        except UnicodeEncodeError as exc:  # lone surrogates cannot have come off the wire
            raise MalformedRequest("request body is not valid UTF-8") from exc
    if len(data) > max_bytes:
        raise PayloadTooLarge(f"body exceeds {max_bytes} bytes")
    return data


def delivery_from_api_gateway(
    event: Mapping[str, Any],
    provider: Provider,
    *,
    max_bytes: int,
    route_params: Mapping[str, str] | None = None,
) -> Delivery:
    """Build a :class:`Delivery` from an API Gateway REST proxy event. ``route_params`` (what
    the resolver matched) fill in for ``pathParameters`` when a gateway leaves them out."""
    headers = _str_map(event.get("headers"), lower=True)
    context = event.get("requestContext")
    request_id = context.get("requestId") if isinstance(context, Mapping) else None
    if not isinstance(request_id, str) or not _CORRELATION.fullmatch(request_id):
        request_id = uuid.uuid4().hex
    incoming = headers.get(CORRELATION_HEADER, "")
    correlation_id = incoming if _CORRELATION.fullmatch(incoming) else request_id
    return Delivery(
        provider=provider,
        body=raw_body(event, max_bytes=max_bytes),
        headers=headers,
        path={**_str_map(route_params), **_str_map(event.get("pathParameters"))},
        query=_str_map(event.get("queryStringParameters")),
        request_id=request_id,
        correlation_id=correlation_id,
    )
