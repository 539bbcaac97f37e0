"""OAuth tokens of a tenant's Bling account, kept in its Secrets Manager secret.

The bling secret's ``current`` holds ``client_id``, ``client_secret`` and, once connected,
``access_token``, ``refresh_token`` and ``expires_at`` (ISO-8601). Reads bypass the
Parameters cache: after another function rotated the pair, a cached copy holds a refresh
token Bling no longer accepts.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities import parameters

from atende_shared.errors import DependencyUnavailable
from atende_shared.tenant_secrets import (
    Integration,
    IntegrationSecret,
    SecretsManagerReader,
    secret_name,
    write_secret,
)
from functions.sync.logic.connectors.bling import BlingCredentials


class SecretsManagerTokenVault:
    def __init__(self, stage: str, tenant_id: str) -> None:
        self._stage = stage
        self._tenant_id = tenant_id

    def load(self) -> BlingCredentials | None:
        name = secret_name(self._stage, self._tenant_id, "bling")
        try:
            raw: Any = parameters.get_secret(name, transform="json", force_fetch=True)
        except parameters.exceptions.GetParameterError as exc:
            if "ResourceNotFoundException" in str(exc):
                return None
            raise DependencyUnavailable(f"reading secret {name} failed: {exc}") from exc
        return BlingCredentials.from_fields(IntegrationSecret.model_validate(raw).current)

    def save(self, credentials: BlingCredentials) -> None:
        write_secret(
            self._stage,
            self._tenant_id,
            "bling",
            IntegrationSecret(current=credentials.to_fields()),
        )


def read_integration_fields(
    stage: str, tenant_id: str, integration: Integration
) -> dict[str, str] | None:
    """The ``current`` fields of a tenant's integration secret (or None), cached a minute."""
    secret = SecretsManagerReader(stage, max_age=60).get(tenant_id, integration)
    return dict(secret.current) if secret is not None else None
