"""The admin API side of phone numbers: claim, list, release, and hand work to the queue.

Provisioning itself is asynchronous (LiveKit may be slow or down): the API stores the
assignment, answers 202 with the record (status ``pending``/``releasing``) and sends a
:class:`ProvisioningJob` to the provisioning queue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from atende_shared.errors import Conflict, ValidationFailed
from atende_shared.models.common import normalise_e164, utc_now
from atende_shared.models.tenant import TenantStatus
from atende_shared.ports.messaging import QueueSender
from atende_shared.ports.tenants import TenantStore
from functions.provision.dal.protocol import PhoneStore, require
from functions.provision.models.api import PhoneStatus
from functions.provision.models.phone import PhoneRecord, ProvisioningJob


def parse_number(raw: str) -> str:
    """E.164-normalise or answer 422 with the reason."""
    try:
        return normalise_e164(raw)
    except ValueError as exc:
        raise ValidationFailed(
            str(exc), details={"fields": [{"field": "number", "problem": str(exc)}]}
        ) from exc


def _enqueue(queue: QueueSender, queue_url: str, job: ProvisioningJob, correlation_id: str) -> None:
    queue.send(queue_url, job.model_dump_json(), correlation_id=correlation_id)


def assign(
    tenants: TenantStore,
    phones: PhoneStore,
    queue: QueueSender,
    *,
    queue_url: str,
    tenant_id: str,
    raw_number: str,
    correlation_id: str,
    now: Callable[[], datetime] = utc_now,
) -> PhoneRecord:
    """Claim the number for the tenant (409 if another tenant has it) and queue ensure.

    Repeating it is harmless: the existing record is returned and ensure re-queued (which
    is also how an admin retries a number left in ``error``).
    """
    number = parse_number(raw_number)
    tenant = tenants.get_tenant(tenant_id)  # 404 for unknown tenants
    if tenant.status == TenantStatus.CLOSED:
        raise ValidationFailed(f"tenant {tenant_id!r} is closed")
    moment = now()
    record = phones.claim(
        PhoneRecord(tenant_id=tenant_id, number=number, created_at=moment, updated_at=moment)
    )
    if record.status == PhoneStatus.RELEASING:
        raise Conflict(f"{number} is being released; assign it again once that finishes")
    if record.status == PhoneStatus.ERROR:
        record = record.model_copy(
            update={"status": PhoneStatus.PENDING, "error": None, "updated_at": moment}
        )
        phones.save(record, unless_releasing=True)
    _enqueue(
        queue,
        queue_url,
        ProvisioningJob(kind="ensure", tenant_id=tenant_id, number=number),
        correlation_id,
    )
    return record


def list_numbers(tenants: TenantStore, phones: PhoneStore, tenant_id: str) -> list[PhoneRecord]:
    tenants.get_tenant(tenant_id)  # 404 rather than an empty list for unknown tenants
    return sorted(phones.list_for_tenant(tenant_id), key=lambda r: r.number)


def request_release(
    phones: PhoneStore,
    queue: QueueSender,
    *,
    queue_url: str,
    tenant_id: str,
    raw_number: str,
    correlation_id: str,
    now: Callable[[], datetime] = utc_now,
) -> PhoneRecord:
    """Mark the number ``releasing`` and queue the release (404 if not this tenant's)."""
    number = parse_number(raw_number)
    record = require(phones, tenant_id, number)
    if record.status != PhoneStatus.RELEASING:
        record = record.model_copy(
            update={"status": PhoneStatus.RELEASING, "error": None, "updated_at": now()}
        )
        phones.save(record)
    _enqueue(
        queue,
        queue_url,
        ProvisioningJob(kind="release", tenant_id=tenant_id, number=number),
        correlation_id,
    )
    return record
