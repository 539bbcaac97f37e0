"""Small value types shared by every model: tenant ids, money, phone numbers, time."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StringConstraints

#: Tenant ids are slugs: they appear in keys, URLs and LiveKit room prefixes, so they never
#: contain the key separator ``#`` or anything that needs escaping.
TENANT_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$"
TenantId = Annotated[str, StringConstraints(pattern=TENANT_ID_PATTERN)]

#: Money is always integer cents (BRL unless a tenant says otherwise); never a float, and
#: never a string: strict, so ``"100"``, ``100.0`` and ``true`` are refused, not coerced.
Cents = Annotated[StrictInt, Field(ge=0, le=10**12)]
SignedCents = Annotated[StrictInt, Field(ge=-(10**12), le=10**12)]

_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_PHONE_NOISE = re.compile(r"[\s().\-]")


def normalise_e164(raw: str) -> str:
    """Normalise a phone number to E.164 (``+551130000000``) or raise ``ValueError``.

    Accepts the usual separators (spaces, dots, dashes, parentheses) and a ``00``
    international prefix; refuses anything without a country code.
    """
    candidate = _PHONE_NOISE.sub("", raw.strip())
    if candidate.startswith("00"):
        candidate = "+" + candidate[2:]
    if not _E164.fullmatch(candidate):
        raise ValueError(
            f"{raw!r} is not an E.164 phone number (expected + country code and 8-15 digits)"
        )
    return candidate


PhoneNumber = Annotated[str, AfterValidator(normalise_e164)]


def utc_now() -> datetime:
    """The current time, timezone-aware in UTC (the only kind of datetime we store)."""
    return datetime.now(UTC)


def _require_aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("datetime must carry a timezone")
    return value.astimezone(UTC)


AwareDatetime = Annotated[datetime, AfterValidator(_require_aware)]
