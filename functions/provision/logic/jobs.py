"""What one provisioning-queue message means, and doing it.

The queue carries two shapes: :class:`ProvisioningJob` from the admin API, and the
EventBridge events ``TenantSuspended``/``TenantResumed`` (the body is the EventBridge
event JSON with ``detail-type`` and ``detail``).
"""

from __future__ import annotations

from typing import Any

from atende_shared.events import TenantResumed, TenantSuspended, parse_event
from atende_shared.observability import logger
from functions.provision.logic.provisioner import SipDeps, apply_tenant_status, ensure, release
from functions.provision.models.errors import NumberOwnedElsewhere, SipRejected
from functions.provision.models.phone import ProvisioningJob

_STATUS_EVENTS = {TenantSuspended.detail_type, TenantResumed.detail_type}


class UnknownMessage(ValueError):
    """A message that is neither a job nor a subscribed event (goes to the DLQ)."""


async def run_message(body: dict[str, Any], deps: SipDeps) -> str:
    """Do what the message asks; return a short outcome for the log.

    Raises for anything worth retrying (LiveKit unavailable, lease busy, storage); a
    LiveKit refusal is recorded on the number (status ``error``) and not retried.
    """
    detail_type = body.get("detail-type")
    if detail_type is not None:
        if detail_type not in _STATUS_EVENTS:
            raise UnknownMessage(f"unexpected event {detail_type!r} on the provisioning queue")
        event = parse_event(str(detail_type), body.get("detail") or {})
        outcome = await apply_tenant_status(deps, event.tenant_id)
        logger.info(
            "tenant status applied to its numbers",
            extra={
                "tenant_id": event.tenant_id,
                "updated": outcome.updated,
                "failed": outcome.failed,
            },
        )
        return f"{detail_type}: {len(outcome.updated)} updated, {len(outcome.failed)} failed"
    try:
        job = ProvisioningJob.model_validate(body)
    except ValueError as exc:
        raise UnknownMessage(f"not a provisioning job: {exc}") from exc
    if job.kind == "release":
        removed = await release(deps, job.tenant_id, job.number)
        return "released" if removed else "nothing to release"
    try:
        record = await ensure(deps, job.tenant_id, job.number)
    except (SipRejected, NumberOwnedElsewhere) as exc:
        # Not retried: the same request would be refused again. The number shows
        # status "error" with this reason; re-assigning it retries.
        logger.warning(
            "LiveKit refused provisioning",
            extra={"tenant_id": job.tenant_id, "number": job.number, "reason": exc.message},
        )
        return "refused"
    return "skipped (released)" if record is None else f"ensured ({record.status.value})"
