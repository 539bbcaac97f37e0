"""The DynamoDB dedupe store on moto: the conditional writes behind claim/complete/release."""

from __future__ import annotations

import uuid

import pytest

from atende_shared.aws import client
from functions.webhooks.dal.dedupe import DynamoDedupeStore
from functions.webhooks.logic.ports import ClaimOutcome
from tests.webhooks.conftest import Harness

NOW = 1_800_000_000


@pytest.fixture
def store(ingress: Harness) -> DynamoDedupeStore:
    return DynamoDedupeStore(ingress.resources.tables["idempotency"])


def _claim(store: DynamoDedupeStore, key: str, token: str, now: int = NOW) -> ClaimOutcome:
    return store.claim(key, token=token, now=now, lease_until=now + 30, expires_at=now + 3600)


def _key() -> str:
    return f"webhook#acme#bling#{uuid.uuid4()}"


def test_first_claim_wins_and_a_second_sees_it_in_progress(store: DynamoDedupeStore) -> None:
    key = _key()
    assert _claim(store, key, "a") is ClaimOutcome.CLAIMED
    assert _claim(store, key, "b") is ClaimOutcome.IN_PROGRESS


def test_completed_key_is_a_duplicate_for_its_whole_ttl(store: DynamoDedupeStore) -> None:
    key = _key()
    _claim(store, key, "a")
    store.complete(key, token="a")
    assert _claim(store, key, "b", now=NOW + 60) is ClaimOutcome.DONE  # lease long over
    assert _claim(store, key, "c", now=NOW + 3599) is ClaimOutcome.DONE


def test_released_key_can_be_claimed_again(store: DynamoDedupeStore) -> None:
    key = _key()
    _claim(store, key, "a")
    store.release(key, token="a")
    assert _claim(store, key, "b") is ClaimOutcome.CLAIMED


def test_abandoned_claim_is_taken_over_after_its_lease(store: DynamoDedupeStore) -> None:
    key = _key()
    _claim(store, key, "a")
    assert _claim(store, key, "b", now=NOW + 29) is ClaimOutcome.IN_PROGRESS
    assert _claim(store, key, "b", now=NOW + 31) is ClaimOutcome.CLAIMED
    # the late first owner can neither complete nor release the new owner's claim
    store.complete(key, token="a")
    store.release(key, token="a")
    assert _claim(store, key, "c", now=NOW + 32) is ClaimOutcome.IN_PROGRESS
    store.complete(key, token="b")
    assert _claim(store, key, "c", now=NOW + 33) is ClaimOutcome.DONE


def test_expired_record_not_yet_removed_by_ttl_counts_as_absent(store: DynamoDedupeStore) -> None:
    key = _key()
    _claim(store, key, "a")
    store.complete(key, token="a")
    assert _claim(store, key, "b", now=NOW + 3601) is ClaimOutcome.CLAIMED


def test_record_shape(store: DynamoDedupeStore, ingress: Harness) -> None:
    key = _key()
    _claim(store, key, "a")
    store.complete(key, token="a")
    item = client("dynamodb").get_item(
        TableName=ingress.resources.tables["idempotency"], Key={"id": {"S": key}}
    )["Item"]
    assert item["status"] == {"S": "done"}
    assert item["expiration"] == {"N": str(NOW + 3600)}
    assert "lease_until" not in item


def test_storage_failure_is_a_dependency_error(ingress: Harness) -> None:
    from atende_shared.errors import StorageError

    # on moto, like its neighbours: a table that does not exist there, never real AWS

    store = DynamoDedupeStore("no-such-table")
    with pytest.raises(StorageError):
        _claim(store, _key(), "a")
