"""Tenant lifecycle: create, read, list, patch, suspend and resume.

Depends only on the shared ``TenantStore`` protocol and the ``EventPublisher`` protocol,
so tests run it against in-memory fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from atende_shared.dal.keys import TENANT_LIST_PARTITION
from atende_shared.errors import Conflict, PreconditionFailed, ValidationFailed
from atende_shared.events import TenantResumed, TenantSuspended
from atende_shared.models.common import utc_now
from atende_shared.models.tenant import Integrations, SuspensionReason, Tenant, TenantStatus
from atende_shared.ports.messaging import EventPublisher
from atende_shared.ports.tenants import TenantStore, update_tenant
from functions.provision.models.api import (
    IntegrationsInput,
    ShopSettingsPatch,
    StatusChange,
    TenantCreate,
    TenantPatch,
    TenantView,
)

Clock = Callable[[], datetime]
MAX_PAGE = 100


def _integrations(given: IntegrationsInput, current: Integrations | None = None) -> Integrations:
    # Which secrets exist is recorded by the secrets flow, never by this API.
    secrets = list(current.secrets_configured) if current else []
    return Integrations(**given.model_dump(), secrets_configured=secrets)


def create_tenant(store: TenantStore, body: TenantCreate, *, now: Clock = utc_now) -> Tenant:
    """Create a tenant (409 if the id is taken)."""
    moment = now()
    tenant = Tenant(
        **body.model_dump(exclude={"integrations"}),
        integrations=_integrations(body.integrations),
        status=TenantStatus.ACTIVE,
        created_at=moment,
        updated_at=moment,
    )
    store.create_tenant(tenant)
    return tenant


def list_tenants(
    store: TenantStore, *, limit: int, after: str | None
) -> tuple[list[TenantView], str | None]:
    """A page of tenants after the tenant PK ``after``, and the PK the next page starts
    after (``None``: the last page). The API seals it into a signed cursor."""
    if after is not None and (not after.startswith("TENANT#") or after == TENANT_LIST_PARTITION):
        raise ValidationFailed(
            "cursor is not one this API returned",
            details={"fields": [{"field": "cursor", "problem": "invalid cursor"}]},
        )
    tenants, last = store.list_tenants(limit=min(limit, MAX_PAGE), cursor=after)
    return [TenantView.of(t) for t in tenants], last


def parse_if_match(header: str | None) -> int | None:
    """The version an ``If-Match`` header names: ``3``, ``"3"`` or ``W/"3"``; None if absent."""
    if header is None or header.strip() in {"", "*"}:
        return None
    raw = header.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise ValidationFailed(
            'If-Match must name the tenant\'s version, e.g. If-Match: "3"',
            details={"fields": [{"field": "If-Match", "problem": "not a version"}]},
        )
    return int(raw)


def patch_tenant(
    store: TenantStore, tenant_id: str, patch: TenantPatch, *, expected_version: int | None = None
) -> Tenant:
    """Apply the fields sent; 404 for an unknown tenant; 412 if ``expected_version`` (from
    ``If-Match``) is no longer the stored one."""

    def apply(current: Tenant) -> Tenant:
        if expected_version is not None and current.version != expected_version:
            raise PreconditionFailed(
                f"tenant {tenant_id!r} is at version {current.version}, "
                f"not {expected_version}; re-read it and apply the change again"
            )
        changes = patch.model_dump(exclude_unset=True, exclude={"integrations"})
        # An explicit null for a required field means "leave it" rather than a 500 later.
        changes = {k: v for k, v in changes.items() if v is not None or k == "legal_id"}
        if patch.integrations is not None:
            changes["integrations"] = _integrations(patch.integrations, current.integrations)
        return Tenant.model_validate({**current.model_dump(), **changes})

    updated, _ = update_tenant(store, tenant_id, apply)
    return updated


def patch_shop(
    store: TenantStore,
    tenant_id: str,
    patch: ShopSettingsPatch,
    *,
    expected_version: int | None = None,
) -> Tenant:
    """The restaurant's own settings (fields sent only); 404/412 as :func:`patch_tenant`."""

    def apply(current: Tenant) -> Tenant:
        if expected_version is not None and current.version != expected_version:
            raise PreconditionFailed(
                f"tenant {tenant_id!r} is at version {current.version}, "
                f"not {expected_version}; re-read it and apply the change again"
            )
        sent = patch.model_dump(exclude_unset=True)
        profile = {k: sent[k] for k in ("languages", "opening_hours") if sent.get(k) is not None}
        orders = {
            k: sent[k]
            for k in ("notification_phone", "acceptance_window_minutes", "on_acceptance_timeout")
            if k in sent and (sent[k] is not None or k == "notification_phone")
        }
        merged = {**current.model_dump(), **profile}
        merged["orders"] = {**current.orders.model_dump(), **orders}
        return Tenant.model_validate(merged)

    updated, _ = update_tenant(store, tenant_id, apply)
    return updated


def change_status(
    store: TenantStore,
    publisher: EventPublisher,
    tenant_id: str,
    *,
    suspend: bool,
    correlation_id: str,
) -> StatusChange:
    """Place or lift the admin's suspension hold and publish the event for the new status.

    The event is what moves LiveKit dispatch into (or out of) suspended mode: the
    provisioning queue subscribes to it, like it does for balance-driven suspensions. The
    admin lifts only the admin hold: a tenant suspended for its balance resumes when it is
    credited, not by this call.
    """
    tenant = store.get_tenant(tenant_id)
    if tenant.status == TenantStatus.CLOSED:
        raise ValidationFailed(f"tenant {tenant_id!r} is closed; it cannot change status")
    if not suspend and tenant.suspended_for == [SuspensionReason.BALANCE]:
        raise Conflict(
            f"tenant {tenant_id!r} is suspended because its balance reached the floor; "
            f"credit it (POST /v1/tenants/{tenant_id}/credits) and it resumes by itself"
        )

    def apply(current: Tenant) -> Tenant:
        if suspend:
            return current.held(SuspensionReason.ADMIN)
        return current.released(SuspensionReason.ADMIN)

    updated, _ = update_tenant(store, tenant_id, apply)
    changed = updated.status != tenant.status
    target = TenantStatus.SUSPENDED if suspend else TenantStatus.ACTIVE
    # Published whenever the tenant ends in the asked-for status, changed now or by an earlier
    # call whose publish failed: the admin's retry then re-sends the event that was lost.
    # Subscribers read the status from the store, so a repeated event changes nothing.
    if updated.status is target:
        event = (
            TenantSuspended(tenant_id=tenant_id, correlation_id=correlation_id, reason="admin")
            if suspend
            else TenantResumed(tenant_id=tenant_id, correlation_id=correlation_id, reason="admin")
        )
        publisher.publish([event])
    return StatusChange(
        tenant_id=tenant_id,
        status=updated.status.value,
        suspended_for=[r.value for r in updated.suspended_for],
        changed=changed,
    )
