"""Tenant integration secrets as logic sees them: the value model, the constant-time
match and the reader protocol (no boto3 here: Secrets Manager is in
``atende_shared.tenant_secrets``)."""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict

from atende_shared.dal.keys import tenant_pk
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
