"""Shared bits of the sync SQS consumers (the failure policy is ``atende_shared.consumers``)."""

from __future__ import annotations

from typing import Any


def remaining_ms(context: Any) -> int:
    """Milliseconds left in this invocation (generous when run outside Lambda)."""
    getter = getattr(context, "get_remaining_time_in_millis", None)
    return int(getter()) if callable(getter) else 15 * 60 * 1000
