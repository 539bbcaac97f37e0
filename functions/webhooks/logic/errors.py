"""Ingress-specific refusals: an authentication failure that carries a metric reason."""

from __future__ import annotations

from atende_shared.errors import Unauthorized


class AuthFailure(Unauthorized):
    """401. ``reason`` is a short code for metrics and logs; the caller sees neither."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(f"{reason}: {message}" if message else reason)
        self.reason = reason
