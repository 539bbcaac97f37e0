"""Per-tenant integration secrets in Secrets Manager, with a rotation grace window.

Name: ``atende/<stage>/tenants/<tenant_id>/<integration>``. Value (JSON)::

    {"current": {"client_secret": "..."},
     "previous": {"client_secret": "..."},          # optional, kept after a rotation
     "previous_valid_until": "2026-11-22T12:00:00Z"} # until then both are accepted

Fields per integration: bling ``client_id``, ``client_secret`` (+ OAuth tokens kept by
sync); asaas ``webhook_token``, ``api_key``; pluggto ``path_secret``; zapi ``client_token``
(+ ``instance_id``, ``instance_token``, optional ``base_url`` to send); evolution ``apikey``
(+ ``base_url``, ``instance``, optional ``api_version`` v1/v2 to send); custom
``signing_secret`` (``whsec_...``); ingest ``token``.
Reads go through Powertools Parameters (cached for ``max_age`` seconds), so a webhook
burst costs one Secrets Manager call per tenant and integration, not one per delivery.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import client
from atende_shared.errors import DependencyUnavailable
from atende_shared.ports.secrets import (
    SECRET_CACHE_SECONDS,
    Integration,
    IntegrationSecret,
    SecretReader,
    matches_any,
    secret_name,
)

__all__ = [
    "SECRET_CACHE_SECONDS",
    "Integration",
    "IntegrationSecret",
    "SecretReader",
    "SecretsManagerReader",
    "matches_any",
    "secret_name",
    "write_secret",
]


class SecretsManagerReader:
    """:class:`SecretReader` on Secrets Manager through Powertools Parameters (cached)."""

    def __init__(self, stage: str, *, max_age: int = SECRET_CACHE_SECONDS) -> None:
        self._stage = stage
        self._max_age = max_age

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        name = secret_name(self._stage, tenant_id, integration)
        try:
            raw: Any = parameters.get_secret(name, transform="json", max_age=self._max_age)
        except parameters.exceptions.GetParameterError as exc:
            if "ResourceNotFoundException" in str(exc):
                return None
            raise DependencyUnavailable(f"reading secret {name} failed: {exc}") from exc
        return IntegrationSecret.model_validate(raw)


def write_secret(
    stage: str, tenant_id: str, integration: Integration, secret: IntegrationSecret
) -> None:
    """Create or overwrite a tenant's integration secret (admin API, local seed)."""
    name = secret_name(stage, tenant_id, integration)
    value = json.dumps(secret.model_dump(mode="json", exclude_none=True))
    sm = client("secretsmanager")
    try:
        try:
            sm.put_secret_value(SecretId=name, SecretString=value)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            sm.create_secret(Name=name, SecretString=value)
    except (ClientError, BotoCoreError) as exc:
        raise DependencyUnavailable(f"writing secret {name} failed: {exc}") from exc
    parameters.clear_caches()
