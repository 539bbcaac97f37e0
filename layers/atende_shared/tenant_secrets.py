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

import hmac
import json
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from aws_lambda_powertools.utilities import parameters
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import BaseModel, ConfigDict

from atende_shared.aws import client
from atende_shared.dal.keys import tenant_pk
from atende_shared.errors import DependencyUnavailable
from atende_shared.models.common import AwareDatetime, utc_now

Integration = Literal[
    "bling", "asaas", "pluggto", "zapi", "evolution", "custom", "ingest", "mongodb"
]
SECRET_CACHE_SECONDS = 300


def secret_name(stage: str, tenant_id: str, integration: Integration) -> str:
    """The Secrets Manager name of a tenant's integration secret."""
    tenant_pk(tenant_id)  # validates the slug: no path tricks in secret names
    return f"atende/{stage}/tenants/{tenant_id}/{integration}"


class IntegrationSecret(BaseModel):
    """A tenant's secret for one integration, possibly mid-rotation."""

    model_config = ConfigDict(frozen=True)

    current: dict[str, str]
    previous: dict[str, str] | None = None
    previous_valid_until: AwareDatetime | None = None

    def candidates(self, field: str, *, now: datetime | None = None) -> list[str]:
        """Values of ``field`` that authenticate right now: the current one, and the
        previous one while its grace window lasts."""
        values = [self.current[field]] if self.current.get(field) else []
        moment = now or utc_now()
        if (
            self.previous
            and self.previous.get(field)
            and self.previous_valid_until is not None
            and moment <= self.previous_valid_until
        ):
            values.append(self.previous[field])
        return values

    def rotated(self, new_values: dict[str, str], *, grace: timedelta) -> IntegrationSecret:
        """The secret after rotating to ``new_values``, keeping the old ones for ``grace``."""
        return IntegrationSecret(
            current=new_values,
            previous=dict(self.current),
            previous_valid_until=utc_now() + grace,
        )


def matches_any(presented: str, candidates: Iterable[str]) -> bool:
    """Whether ``presented`` equals one of ``candidates`` (e.g. the values of
    :meth:`IntegrationSecret.candidates`), compared in constant time on the UTF-8 bytes and
    against every candidate (no early exit on a match). Any text may be presented: non-ASCII
    (even lone surrogates) simply does not match, it never raises."""
    given = presented.encode("utf-8", "surrogatepass")
    found = False
    for candidate in candidates:
        found |= hmac.compare_digest(given, candidate.encode("utf-8", "surrogatepass"))
    return found


class SecretReader(Protocol):
    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None: ...


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
