"""The one list convention of every API: ``limit`` + ``cursor`` in, ``Page[T]`` out.

Every list route takes two query parameters and answers one shape::

    GET /v1/tenants/{tenant_id}/ledger?limit=50&cursor=<opaque>
    200 {"items": [...], "next_cursor": "<opaque>" | null}

- ``limit``: 1..100, default 50 (:data:`PageLimit`, :data:`DEFAULT_LIMIT`).
- ``cursor``: opaque; pass back the ``next_cursor`` of the previous page; ``null`` means
  there is no next page (:data:`PageCursor`).

A cursor is a storage position (e.g. DynamoDB's ``LastEvaluatedKey``) **signed** with
HMAC-SHA256 and **bound to the list and the tenant** it was issued for. A cursor that was
tampered with, forged, or issued for another list or tenant answers 400 with the
platform's error body, before anything reaches storage, so a cursor can never name another
tenant's partition. Handlers use it like this::

    scope = CursorScope("ledger", tenant_id)
    rows, last = store.list_ledger(tenant_id, limit=limit,
                                   start=open_cursor(cursor, scope, require={"PK": pk}))
    return page_of([view(r) for r in rows], last, scope)

The signing key comes from :class:`CursorKeySettings`: ``ATENDE_CURSOR_KEY`` (the key
itself) or ``ATENDE_CURSOR_KEY_SECRET_NAME`` (a Secrets Manager secret, read once and
cached; deployed functions). On the local stage with neither set, a random key is
generated per process (the local platform serves every route from one process).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Generic, TypeVar

from aws_lambda_powertools.event_handler.openapi.params import Query
from pydantic import BaseModel, Field, SecretStr

from atende_shared.errors import ConfigurationError, DependencyUnavailable, MalformedRequest
from atende_shared.settings import ServiceSettings, load_settings

DEFAULT_LIMIT = 50
MAX_LIMIT = 100
MAX_CURSOR_LENGTH = 1024
CURSOR_KEY_ENV = "ATENDE_CURSOR_KEY"
CURSOR_KEY_SECRET_ENV = "ATENDE_CURSOR_KEY_SECRET_NAME"  # noqa: S105 (a variable name)

_VERSION = "c1"
_SIG_BYTES = 16  # 128-bit tag: forging one is out of reach
_CURSOR_RE = re.compile(r"^c1\.[A-Za-z0-9_-]{1,900}\.[A-Za-z0-9_-]{22}$")

PageLimit = Annotated[
    int,
    Query(
        ge=1,
        le=MAX_LIMIT,
        description=f"Page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT}).",
    ),
]
"""The ``limit`` query parameter of every list route (give it ``= DEFAULT_LIMIT``)."""

PageCursor = Annotated[
    str | None,
    Query(
        max_length=MAX_CURSOR_LENGTH,
        description="Opaque: the `next_cursor` of the previous page. Omit for the first page.",
    ),
]
"""The ``cursor`` query parameter of every list route (give it ``= None``)."""

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a list. ``next_cursor`` is ``null`` on the last page."""

    items: list[T]
    next_cursor: str | None = Field(
        default=None,
        description="Pass as `cursor` to get the next page; null when there is none.",
    )


@dataclass(frozen=True)
class CursorScope:
    """What a cursor is bound to: the list (e.g. ``"ledger"``) and the tenant (``None``
    for platform-wide lists such as the tenants list)."""

    list_name: str
    tenant_id: str | None = None

    def message(self, payload: str) -> bytes:
        tenant = self.tenant_id if self.tenant_id is not None else "*"
        return "\x1f".join(("atende-cursor", _VERSION, self.list_name, tenant, payload)).encode()


class InvalidCursor(MalformedRequest):
    """The cursor is not one this API issued for this list and tenant (400)."""

    def __init__(self) -> None:
        super().__init__(
            "cursor is not one this API returned for this list",
            details={"fields": [{"field": "cursor", "problem": "invalid cursor"}]},
        )


class CursorKeySettings(ServiceSettings):
    """Where the cursor signing key comes from (see the module docstring)."""

    cursor_key: SecretStr | None = Field(None, validation_alias=CURSOR_KEY_ENV, min_length=16)
    cursor_key_secret_name: str | None = Field(None, validation_alias=CURSOR_KEY_SECRET_ENV)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):  # DynamoDB numbers (boto3's resource API)
        return int(value) if value == value.to_integral_value() else str(value)
    raise TypeError(f"cannot put {type(value).__name__} in a cursor")


class CursorCodec:
    """Signs and opens cursors with one key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ConfigurationError("the cursor signing key must have at least 16 bytes")
        self._key = key

    def _tag(self, scope: CursorScope, payload: str) -> str:
        digest = hmac.new(self._key, scope.message(payload), hashlib.sha256).digest()
        return _b64(digest[:_SIG_BYTES])

    def seal(self, position: Mapping[str, Any] | None, scope: CursorScope) -> str | None:
        """The opaque cursor for ``position`` (``None`` → ``None``: no next page)."""
        if not position:
            return None
        raw = json.dumps(
            dict(position), separators=(",", ":"), sort_keys=True, default=_json_default
        )
        payload = _b64(raw.encode())
        cursor = f"{_VERSION}.{payload}.{self._tag(scope, payload)}"
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ConfigurationError(f"a {scope.list_name} cursor would exceed {MAX_CURSOR_LENGTH}")
        return cursor

    def open(
        self,
        cursor: str | None,
        scope: CursorScope,
        *,
        require: Mapping[str, object] | None = None,
    ) -> dict[str, Any] | None:
        """The position inside ``cursor``, or :class:`InvalidCursor` (400) when it was not
        issued by this API for ``scope``. ``require`` names fields the position must hold
        with exactly these values (e.g. the tenant's partition key): a second, independent
        guard that the position stays in the tenant's partition."""
        if cursor is None or cursor == "":
            return None
        if len(cursor) > MAX_CURSOR_LENGTH or not _CURSOR_RE.match(cursor):
            raise InvalidCursor()
        _, payload, tag = cursor.split(".")
        if not hmac.compare_digest(tag, self._tag(scope, payload)):
            raise InvalidCursor()
        try:
            position = json.loads(_unb64(payload))
        except (ValueError, binascii.Error) as exc:  # signed by us: cannot happen, but never 5xx
            raise InvalidCursor() from exc
        if not isinstance(position, dict):
            raise InvalidCursor()
        for field, expected in (require or {}).items():
            if position.get(field) != expected:
                raise InvalidCursor()
        return position


@cache
def _local_key() -> bytes:
    return secrets.token_bytes(32)


@cache
def _secret_key(name: str) -> bytes:
    from aws_lambda_powertools.utilities import parameters  # only where it is needed

    try:
        value = parameters.get_secret(name, max_age=3600)
    except parameters.exceptions.GetParameterError as exc:
        raise DependencyUnavailable(f"reading the cursor key failed: {exc}") from exc
    text = value.decode() if isinstance(value, bytes) else str(value)
    try:  # a JSON secret {"key": "..."} or the key itself
        loaded = json.loads(text)
        text = str(loaded.get("key", "")) if isinstance(loaded, dict) else text
    except ValueError:
        pass
    if len(text) < 16:
        raise ConfigurationError("the cursor key secret holds no key of at least 16 characters")
    return text.encode()


def cursor_codec() -> CursorCodec:
    """The process's codec, keyed from :class:`CursorKeySettings`."""
    settings = load_settings(CursorKeySettings)
    if settings.cursor_key is not None:
        return CursorCodec(settings.cursor_key.get_secret_value().encode())
    if settings.cursor_key_secret_name:
        return CursorCodec(_secret_key(settings.cursor_key_secret_name))
    if settings.stage == "local":
        return CursorCodec(_local_key())
    raise ConfigurationError(
        f"no cursor signing key: set {CURSOR_KEY_SECRET_ENV} (or {CURSOR_KEY_ENV})"
    )


def open_cursor(
    cursor: str | None, scope: CursorScope, *, require: Mapping[str, object] | None = None
) -> dict[str, Any] | None:
    """:meth:`CursorCodec.open` with the process's codec."""
    if not cursor:
        return None
    return cursor_codec().open(cursor, scope, require=require)


def page_of(items: Sequence[T], position: Mapping[str, Any] | None, scope: CursorScope) -> Page[T]:
    """The page answer: ``items`` and the signed cursor for ``position``."""
    return Page[T](items=list(items), next_cursor=cursor_codec().seal(position, scope))


def page_slice(
    items: Sequence[T], *, limit: int, cursor: str | None, scope: CursorScope
) -> Page[T]:
    """One page of a small list read whole (a tenant's phone numbers, its monthly
    statements): the same convention, with the offset inside the signed cursor."""
    position = open_cursor(cursor, scope)
    offset = position.get("offset", 0) if position else 0
    if not isinstance(offset, int) or offset < 0:
        raise InvalidCursor()
    end = offset + limit
    return page_of(items[offset:end], {"offset": end} if end < len(items) else None, scope)
