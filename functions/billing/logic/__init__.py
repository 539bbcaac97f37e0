"""Billing logic. ``grant_credit`` is the entry point the local platform's seed calls."""

from __future__ import annotations

from typing import Any


def grant_credit(
    tenant_id: str,
    amount_cents: int,
    reference: str,
    *,
    reason: str = "opening balance",
    actor: str = "local-seed",
) -> Any:
    """Credit ``tenant_id`` once per ``reference`` using the environment's DynamoDB/bus.

    Thin alias of :func:`functions.billing.logic.credits.credit` (imported lazily so
    importing this package stays cheap)."""
    from functions.billing.logic.credits import credit

    return credit(tenant_id, amount_cents, reason, actor, reference)
