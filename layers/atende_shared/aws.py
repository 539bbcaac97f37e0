"""boto3 clients, built lazily and cached per process.

Nothing connects at import: a cold start pays only for the clients an invocation uses.
``AWS_ENDPOINT_URL`` (honoured by boto3 itself) points them at moto locally, and
:func:`reset_clients` lets tests and the local platform rebuild them after changing it.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CONFIG = Config(
    retries={"max_attempts": 4, "mode": "standard"},
    connect_timeout=2,
    read_timeout=10,
)


@cache
def client(service: str) -> Any:
    """The process-wide boto3 client for ``service`` (``"sqs"``, ``"events"``...)."""
    return boto3.client(service, config=_CONFIG)  # type: ignore[call-overload]


@cache
def resource(service: str) -> Any:
    """The process-wide boto3 resource for ``service`` (``"dynamodb"``, ``"s3"``)."""
    return boto3.resource(service, config=_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget every cached client and resource (after the endpoint or credentials change)."""
    client.cache_clear()
    resource.cache_clear()
    from atende_shared.dal.dynamo import table  # local: avoid a cycle at import

    table.cache_clear()
