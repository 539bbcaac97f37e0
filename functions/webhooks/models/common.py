"""Value parsing shared by the provider payload models (provider dates, ids)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from pydantic import BeforeValidator, StringConstraints

#: Bling and Asaas write local Brazilian time without an offset; Brazil dropped daylight
#: saving in 2019, so Brasília time is a fixed UTC-3 (no tz database needed in Lambda).
BRASILIA = timezone(timedelta(hours=-3), "BRT")

#: Every provider id becomes ``InboundEvent.provider_event_id`` (at most 256 characters).
EventId = Annotated[str, StringConstraints(min_length=1, max_length=256, strip_whitespace=True)]

_MS_THRESHOLD = 10**11  # epoch values above this are milliseconds (year 5138 in seconds)


def provider_datetime(value: Any) -> datetime:
    """Read a provider timestamp: epoch seconds or milliseconds (number or digit string),
    ISO 8601 with an offset, or ``YYYY-MM-DD HH:MM:SS`` in Brasília time."""
    if isinstance(value, bool):
        raise ValueError("a timestamp cannot be a boolean")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int | float):
        seconds = value / 1000 if abs(value) > _MS_THRESHOLD else value
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as exc:
            raise ValueError(f"timestamp {value!r} is out of range") from exc
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{value!r} is not a date-time") from exc
    else:
        raise ValueError("expected a date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=BRASILIA)
    return parsed.astimezone(UTC)


ProviderDatetime = Annotated[datetime, BeforeValidator(provider_datetime)]
