"""Plugg.to: unsigned notifications, authenticated by an unguessable secret in the path.

Plugg.to sends no event id and no timestamp: two identical notifications may be a retry or
two real changes of the same record. Collapsing them could drop the second change, so each
accepted delivery is its own event (keyed by the request id) and sync, which re-reads the
record from Plugg.to and writes only what changed, absorbs repeats harmlessly.
"""

from __future__ import annotations

from atende_shared.ports.secrets import matches_any
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    parse_json,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.pluggto import PluggtoNotification


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    presented = delivery.path.get("path_secret", "")
    if not presented:
        raise AuthFailure("missing_path_secret")
    if not matches_any(presented, secret_candidates(context, tenant, "pluggto", "path_secret")):
        raise AuthFailure("bad_path_secret", "path secret does not match")

    data = parse_json(delivery.body)
    note = validate(PluggtoNotification, data, what="Plugg.to notification")
    return accepted(
        delivery,
        context,
        Queue.CATALOG,
        tenant_id=tenant,
        event_id=f"{note.type}:{note.id}:{note.action}:{delivery.request_id}"[:256],
        type=f"{note.type}.{note.action}"[:128],
        occurred_at=context.now,
        payload=data,
    )
