"""Tenant logic with an in-memory store: patches, status changes and their events."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from atende_shared.errors import Conflict, DependencyUnavailable, NotFound, ValidationFailed
from atende_shared.events import DomainEvent, TenantResumed, TenantSuspended
from atende_shared.models.tenant import Integrations, SuspensionReason, Tenant, TenantStatus
from functions.provision.logic import tenants
from functions.provision.models.api import IntegrationsInput, TenantPatch
from tests.provision.fakes import MemoryTenants


class Published:
    def __init__(self) -> None:
        self.events: list[DomainEvent] = []

    def publish(self, events: Sequence[DomainEvent]) -> None:
        self.events.extend(events)


@pytest.fixture
def store() -> MemoryTenants:
    return MemoryTenants(
        Tenant(
            tenant_id="bella",
            name="Bella",
            integrations=Integrations(secrets_configured=["bling"]),
        )
    )


def test_patching_integrations_keeps_the_recorded_secret_names(store: MemoryTenants) -> None:
    patch = TenantPatch(integrations=IntegrationsInput(catalog_source="bling"))
    updated = tenants.patch_tenant(store, "bella", patch)
    assert updated.integrations.catalog_source == "bling"
    assert updated.integrations.secrets_configured == ["bling"]


def test_patching_an_explicit_null_name_leaves_it(store: MemoryTenants) -> None:
    updated = tenants.patch_tenant(store, "bella", TenantPatch.model_validate({"name": None}))
    assert updated.name == "Bella"


def test_suspend_then_resume_publish_the_status_each_call_ends_in(store: MemoryTenants) -> None:
    published = Published()
    first = tenants.change_status(store, published, "bella", suspend=True, correlation_id="c1")
    again = tenants.change_status(store, published, "bella", suspend=True, correlation_id="c2")
    back = tenants.change_status(store, published, "bella", suspend=False, correlation_id="c3")
    assert (first.changed, again.changed, back.changed) == (True, False, True)
    # The repeated suspend re-sends its event: harmless (subscribers read the stored status)
    assert [type(e) for e in published.events] == [TenantSuspended, TenantSuspended, TenantResumed]
    assert all(e.reason == "admin" for e in published.events)  # type: ignore[attr-defined]
    assert [e.correlation_id for e in published.events] == ["c1", "c2", "c3"]
    assert store.get_tenant("bella").status == TenantStatus.ACTIVE


def test_an_event_lost_to_a_failed_publish_is_sent_by_the_retry(store: MemoryTenants) -> None:
    # Given EventBridge fails the first publish, after the status was stored
    class FlakyBus(Published):
        failures = 1

        def publish(self, events: Sequence[DomainEvent]) -> None:
            if self.failures:
                self.failures -= 1
                raise DependencyUnavailable("put_events failed")
            super().publish(events)

    bus = FlakyBus()
    with pytest.raises(DependencyUnavailable):
        tenants.change_status(store, bus, "bella", suspend=True, correlation_id="c1")
    assert store.get_tenant("bella").status == TenantStatus.SUSPENDED
    # When the admin retries (the API answered 503)
    retried = tenants.change_status(store, bus, "bella", suspend=True, correlation_id="c2")
    # Then the event provisioning needs goes out after all
    assert retried.changed is False
    assert [(type(e), e.correlation_id) for e in bus.events] == [(TenantSuspended, "c2")]


def test_a_closed_tenant_cannot_be_resumed(store: MemoryTenants) -> None:
    store.put_tenant(store.get_tenant("bella").model_copy(update={"status": TenantStatus.CLOSED}))
    with pytest.raises(ValidationFailed, match="closed"):
        tenants.change_status(store, Published(), "bella", suspend=False, correlation_id="c")


def test_unknown_tenant_status_change_is_not_found(store: MemoryTenants) -> None:
    with pytest.raises(NotFound):
        tenants.change_status(store, Published(), "ghost", suspend=True, correlation_id="c")


def test_an_admin_cannot_resume_a_tenant_held_only_by_its_balance(store: MemoryTenants) -> None:
    store.put_tenant(store.get_tenant("bella").held(SuspensionReason.BALANCE))
    published = Published()
    with pytest.raises(Conflict, match=r"balance reached the floor; credit it \(POST"):
        tenants.change_status(store, published, "bella", suspend=False, correlation_id="c")
    assert store.get_tenant("bella").status == TenantStatus.SUSPENDED
    assert published.events == []


def test_admin_hold_on_a_balance_suspended_tenant_is_kept_apart(store: MemoryTenants) -> None:
    # Given a tenant already suspended for its balance
    store.put_tenant(store.get_tenant("bella").held(SuspensionReason.BALANCE))
    published = Published()
    # When an admin suspends it too, then lifts their suspension
    held = tenants.change_status(store, published, "bella", suspend=True, correlation_id="c1")
    lifted = tenants.change_status(store, published, "bella", suspend=False, correlation_id="c2")
    # Then the status never moved, only the balance hold is left, and no TenantResumed
    # claims otherwise (the suspend re-announced the suspension it joined)
    assert (held.changed, held.suspended_for) == (False, ["admin", "balance"])
    assert (lifted.changed, lifted.status, lifted.suspended_for) == (
        False,
        "suspended",
        ["balance"],
    )
    assert [type(e) for e in published.events] == [TenantSuspended]


def test_a_patch_does_not_undo_a_concurrent_suspension(store: MemoryTenants) -> None:
    # Given billing suspends the tenant between the patch's read and its write
    real_get = store.get_tenant
    raced = False

    def get_then_race(tenant_id: str) -> Tenant:
        nonlocal raced
        seen = real_get(tenant_id)
        if not raced:
            raced = True
            suspended = seen.held(SuspensionReason.BALANCE)
            store.put_tenant(suspended.model_copy(update={"version": seen.version + 1}))
        return seen

    store.get_tenant = get_then_race  # type: ignore[method-assign]
    # When the patch is applied
    updated = tenants.patch_tenant(store, "bella", TenantPatch(name="Bella Napoli"))
    # Then it was retried on the fresh profile: both changes are kept
    assert (updated.name, updated.status) == ("Bella Napoli", TenantStatus.SUSPENDED)
    assert real_get("bella") == updated
    assert updated.version == 2
