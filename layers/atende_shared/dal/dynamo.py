"""DynamoDB table handles and the conversions DynamoDB needs (no floats, Decimals back)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import cache
from typing import Any, cast

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import resource
from atende_shared.errors import StorageError


@cache
def table(name: str) -> Any:
    """A cached ``Table`` resource for ``name``."""
    return resource("dynamodb").Table(name)


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """Make a JSON-compatible dict storable: floats become Decimals (DynamoDB has no float)."""
    return json.loads(json.dumps(data), parse_float=Decimal)


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    """Undo :func:`to_item`: Decimals back to int/float for pydantic."""
    return json.loads(json.dumps(item, default=_decimal_default))


def _decimal_default(value: object) -> object:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def is_condition_failure(exc: ClientError) -> bool:
    """True when a conditional write lost (the expected, idempotent outcome)."""
    code = exc.response.get("Error", {}).get("Code", "")
    return code in {"ConditionalCheckFailedException", "TransactionCanceledException"}


def storage_error(operation: str, exc: ClientError | BotoCoreError) -> StorageError:
    """Wrap a storage failure in the domain error the API maps to 503."""
    return StorageError(f"{operation} failed: {exc}")


class ConditionFailed(Exception):
    """A conditional write lost (see :func:`storage_call` with ``conditional=True``).

    Not a failure: the caller turns it into its outcome (False, a conflict, a retry).
    ``response`` is the service's answer, e.g. the losing item asked for with
    ``ReturnValuesOnConditionCheckFailure`` or a transaction's ``CancellationReasons``.
    """

    def __init__(self, operation: str, error: ClientError) -> None:
        super().__init__(f"{operation}: condition check failed")
        self.operation = operation
        self.error = error
        self.response: dict[str, Any] = cast(dict[str, Any], error.response)


@contextmanager
def storage_call(operation: str, *, conditional: bool = False) -> Iterator[None]:
    """Run one storage call (DynamoDB or S3); a boto failure becomes the 503 StorageError.

    With ``conditional=True`` a lost condition check (:func:`is_condition_failure`) raises
    :class:`ConditionFailed` instead, for the caller to handle as an expected outcome.
    """
    try:
        yield
    except ClientError as exc:
        if conditional and is_condition_failure(exc):
            raise ConditionFailed(operation, exc) from exc
        raise storage_error(operation, exc) from exc
    except BotoCoreError as exc:
        raise storage_error(operation, exc) from exc


def query_pages(table_handle: Any, operation: str, **query: Any) -> Iterator[dict[str, Any]]:
    """Each page of a query, following ``LastEvaluatedKey`` (stop early by breaking)."""
    while True:
        with storage_call(operation):
            answer: dict[str, Any] = table_handle.query(**query)
        yield answer
        last = answer.get("LastEvaluatedKey")
        if not last:
            return
        query = {**query, "ExclusiveStartKey": last}


def query_items(table_handle: Any, operation: str, **query: Any) -> Iterator[dict[str, Any]]:
    """Every item a query matches, across pages."""
    for page in query_pages(table_handle, operation, **query):
        yield from page.get("Items", [])


class TableStore:
    """Base of the DynamoDB stores: the table handle, resolved on use (no I/O at build)."""

    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    @property
    def _table(self) -> Any:
        return table(self._table_name)
