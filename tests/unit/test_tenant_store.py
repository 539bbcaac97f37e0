"""The DynamoDB tenant store against moto: round trips, isolation, conflicts."""

from __future__ import annotations

import pytest
from botocore.exceptions import EndpointConnectionError

from atende_local.bootstrap import LocalResources
from atende_shared.dal import keys
from atende_shared.dal.dynamo import ConditionFailed, storage_call, table
from atende_shared.dal.tenants import DynamoTenantStore, StaleTenant, update_tenant
from atende_shared.errors import Conflict, NotFound, StorageError
from atende_shared.models.menu import Menu, MenuItem, MenuOption
from atende_shared.models.tenant import AgentConfig, SuspensionReason, Tenant, TenantStatus


@pytest.fixture
def store(aws: LocalResources) -> DynamoTenantStore:
    return DynamoTenantStore(aws.tables["main"])


def test_a_tenant_round_trips_and_cannot_be_created_twice(store):
    tenant = Tenant(tenant_id="demo-pizzaria", name="Pizzaria Demo")
    store.create_tenant(tenant)
    assert store.get_tenant("demo-pizzaria") == tenant
    with pytest.raises(Conflict, match="already exists"):
        store.create_tenant(tenant)


def test_listing_pages_through_every_tenant(store):
    for i in range(5):
        store.create_tenant(Tenant(tenant_id=f"shop-{i}", name=f"Shop {i}"))
    seen: list[str] = []
    cursor = None
    while True:
        page, cursor = store.list_tenants(limit=2, cursor=cursor)
        seen.extend(t.tenant_id for t in page)
        if cursor is None:
            break
    assert sorted(seen) == [f"shop-{i}" for i in range(5)]


def test_one_tenants_menu_never_shows_in_anothers(store):
    store.create_tenant(Tenant(tenant_id="shop-a", name="A"))
    store.create_tenant(Tenant(tenant_id="shop-b", name="B"))
    store.put_menu("shop-a", Menu(items=[MenuItem(item_id="x", name="Only A", price_cents=100)]))
    assert store.get_menu("shop-b").items == []
    assert [i.name for i in store.get_menu("shop-a").items] == ["Only A"]


def test_replacing_a_menu_removes_items_no_longer_present(store):
    pizza = MenuItem(
        item_id="pizza",
        name="Margherita",
        price_cents=4990,
        options=[MenuOption(option_id="broto", name="Broto", price_cents=2990)],
    )
    soda = MenuItem(item_id="soda", name="Coca-Cola", price_cents=1200)
    store.put_menu("shop-a", Menu(items=[pizza, soda]))
    store.put_menu("shop-a", Menu(items=[pizza]))
    assert store.get_menu("shop-a").items == [pizza]


def test_unknown_tenant_is_not_found_and_agent_config_defaults(store):
    with pytest.raises(NotFound):
        store.get_tenant("nobody-here")
    assert store.get_agent_config("nobody-here") == AgentConfig(tenant_id="nobody-here")


def test_a_dynamodb_failure_becomes_a_storage_error_naming_the_operation(
    aws: LocalResources,
) -> None:
    # Given a store pointed at a table that does not exist (DynamoDB answers
    # ResourceNotFoundException), reads and writes fail as the 503 StorageError
    store = DynamoTenantStore("no-such-table")
    with pytest.raises(StorageError, match=r"^get tenant failed: .*ResourceNotFound"):
        store.get_tenant("demo-pizzaria")
    with pytest.raises(StorageError, match=r"^create tenant failed"):
        store.create_tenant(Tenant(tenant_id="demo-pizzaria", name="Pizzaria Demo"))


def test_storage_call_wraps_only_boto_failures() -> None:
    with (
        pytest.raises(StorageError, match=r"^list things failed: .*Could not connect"),
        storage_call("list things"),
    ):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    # A bug is not a storage outage: it passes through untouched
    with pytest.raises(KeyError), storage_call("list things"):
        raise KeyError("pk")


def test_a_stale_version_cannot_overwrite_the_profile(store: DynamoTenantStore) -> None:
    # Given a stored tenant at version 0 that someone moved to version 1
    tenant = Tenant(tenant_id="bella", name="Bella")
    store.create_tenant(tenant)
    store.replace_tenant(tenant.model_copy(update={"version": 1}), expected_version=0)
    # When a writer that read version 0 writes
    with pytest.raises(StaleTenant):
        store.replace_tenant(
            tenant.model_copy(update={"name": "Stale", "version": 1}), expected_version=0
        )
    # Then the first change stands
    assert (store.get_tenant("bella").name, store.get_tenant("bella").version) == ("Bella", 1)
    with pytest.raises(StaleTenant):  # an unknown tenant is never created by a replace
        store.replace_tenant(Tenant(tenant_id="ghost", name="G"), expected_version=0)


def test_a_profile_written_before_versions_existed_counts_as_version_0(
    aws: LocalResources, store: DynamoTenantStore
) -> None:
    store.create_tenant(Tenant(tenant_id="old", name="Old"))
    table(aws.tables["main"]).update_item(
        Key={"PK": "TENANT#old", "SK": keys.PROFILE_SK}, UpdateExpression="REMOVE version"
    )
    updated, changed = update_tenant(store, "old", lambda t: t.model_copy(update={"name": "New"}))
    assert (changed, updated.version, store.get_tenant("old").name) == (True, 1, "New")
    # A change that changes nothing writes nothing
    again, changed = update_tenant(store, "old", lambda t: t)
    assert (changed, again.version) == (False, 1)


def test_suspension_holds_are_lifted_one_party_at_a_time() -> None:
    tenant = Tenant(tenant_id="bella", name="Bella")
    both = tenant.held(SuspensionReason.BALANCE).held(SuspensionReason.ADMIN)
    assert (both.status, both.suspended_for) == (
        TenantStatus.SUSPENDED,
        [SuspensionReason.ADMIN, SuspensionReason.BALANCE],
    )
    admin_only = both.released(SuspensionReason.BALANCE)
    assert (admin_only.status, admin_only.suspended_for) == (
        TenantStatus.SUSPENDED,
        [SuspensionReason.ADMIN],
    )
    assert admin_only.released(SuspensionReason.BALANCE) is admin_only  # not held: no change
    assert admin_only.released(SuspensionReason.ADMIN).status is TenantStatus.ACTIVE
    closed = tenant.model_copy(update={"status": TenantStatus.CLOSED})
    assert closed.held(SuspensionReason.BALANCE).status is TenantStatus.CLOSED
    # A tenant stored suspended before holds existed was suspended by an admin
    legacy = Tenant.model_validate({"tenant_id": "old", "name": "Old", "status": "suspended"})
    assert legacy.suspended_for == [SuspensionReason.ADMIN]


def test_only_a_conditional_call_turns_a_lost_condition_into_an_outcome(
    aws: LocalResources,
) -> None:
    main = table(aws.tables["main"])
    item = {"PK": "TENANT#acme", "SK": "X"}
    main.put_item(Item=item)
    again = {"Item": item, "ConditionExpression": "attribute_not_exists(PK)"}
    # conditional: the lost condition is an outcome carrying the service's answer
    with pytest.raises(ConditionFailed) as lost, storage_call("put x", conditional=True):
        main.put_item(**again, ReturnValuesOnConditionCheckFailure="ALL_OLD")
    assert lost.value.response["Item"]["SK"] == {"S": "X"}  # the wire format
    # not conditional: the same loss is a storage failure (503)
    with pytest.raises(StorageError, match=r"^put x failed"), storage_call("put x"):
        main.put_item(**again)
    # conditional, but another failure: still a storage failure
    with (
        pytest.raises(StorageError, match=r"^get x failed: .*ResourceNotFound"),
        storage_call("get x", conditional=True),
    ):
        table("no-such-table").get_item(Key=item)
