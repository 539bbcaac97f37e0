"""The provision DAL on moto: one owner per number, leases that expire, isolation by key."""

from __future__ import annotations

import threading

import pytest

from atende_local.bootstrap import LocalResources
from functions.provision.dal.leases import DynamoLeaseStore
from functions.provision.dal.phones import DynamoPhoneStore
from functions.provision.models.api import PhoneStatus
from functions.provision.models.errors import NumberOwnedElsewhere
from functions.provision.models.phone import PhoneRecord

NUMBER = "+551130000001"


@pytest.fixture
def phones(aws_clean: LocalResources) -> DynamoPhoneStore:
    return DynamoPhoneStore(aws_clean.tables["main"])


@pytest.fixture
def leases(aws_clean: LocalResources) -> DynamoLeaseStore:
    return DynamoLeaseStore(aws_clean.tables["main"])


def test_a_number_has_one_owner(phones: DynamoPhoneStore) -> None:
    phones.claim(PhoneRecord(tenant_id="tenant-a", number=NUMBER))
    with pytest.raises(NumberOwnedElsewhere):
        phones.claim(PhoneRecord(tenant_id="tenant-b", number=NUMBER))
    assert phones.owner(NUMBER) == "tenant-a"
    assert phones.get("tenant-b", NUMBER) is None
    assert phones.list_for_tenant("tenant-b") == []


def test_racing_tenants_produce_exactly_one_owner(phones: DynamoPhoneStore) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def claim(tenant: str) -> None:
        barrier.wait()
        try:
            phones.claim(PhoneRecord(tenant_id=tenant, number=NUMBER))
            outcomes.append(f"won:{tenant}")
        except NumberOwnedElsewhere:
            outcomes.append("lost")

    threads = [threading.Thread(target=claim, args=(f"tenant-{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = [o for o in outcomes if o.startswith("won")]
    assert len(winners) == 1
    assert phones.owner(NUMBER) == winners[0].removeprefix("won:")


def test_save_unless_releasing_refuses_after_release_started(phones: DynamoPhoneStore) -> None:
    record = phones.claim(PhoneRecord(tenant_id="tenant-a", number=NUMBER))
    phones.save(record.model_copy(update={"status": PhoneStatus.RELEASING}))
    active = record.model_copy(update={"status": PhoneStatus.ACTIVE})
    assert phones.save(active, unless_releasing=True) is False
    stored = phones.get("tenant-a", NUMBER)
    assert stored is not None
    assert stored.status == PhoneStatus.RELEASING


def test_delete_frees_the_number_but_never_someone_elses_claim(phones: DynamoPhoneStore) -> None:
    phones.claim(PhoneRecord(tenant_id="tenant-a", number=NUMBER))
    phones.delete("tenant-b", NUMBER)  # not B's: A's claim must survive
    assert phones.owner(NUMBER) == "tenant-a"
    phones.delete("tenant-a", NUMBER)
    assert phones.owner(NUMBER) is None
    phones.claim(PhoneRecord(tenant_id="tenant-b", number=NUMBER))
    assert phones.owner(NUMBER) == "tenant-b"


def test_lease_is_exclusive_until_it_expires(leases: DynamoLeaseStore) -> None:
    assert leases.try_acquire("PHONE#x", "w1", now=1_000, ttl_seconds=60)
    assert not leases.try_acquire("PHONE#x", "w2", now=1_030, ttl_seconds=60)
    # The holder may renew; a stranger's release does nothing
    assert leases.try_acquire("PHONE#x", "w1", now=1_030, ttl_seconds=60)
    leases.release("PHONE#x", "w2")
    assert not leases.try_acquire("PHONE#x", "w2", now=1_040, ttl_seconds=60)
    # A crashed holder's lease expires
    assert leases.try_acquire("PHONE#x", "w2", now=1_100, ttl_seconds=60)
    leases.release("PHONE#x", "w2")
    assert leases.try_acquire("PHONE#x", "w3", now=1_101, ttl_seconds=60)
