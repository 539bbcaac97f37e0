"""The one list convention: signed cursors bound to the list and the tenant."""

from __future__ import annotations

from decimal import Decimal

import pytest

from atende_shared.errors import ConfigurationError, MalformedRequest
from atende_shared.pagination import (
    CURSOR_KEY_ENV,
    MAX_CURSOR_LENGTH,
    CursorCodec,
    CursorScope,
    InvalidCursor,
    Page,
    cursor_codec,
    page_of,
)
from atende_shared.settings import reset_settings_cache

KEY = b"k" * 32
LEDGER_A = CursorScope("ledger", "tenant-a")
POSITION = {"PK": "TENANT#tenant-a", "SK": "LEDGER#2026-01-01T00:00:00Z#x", "n": Decimal(3)}


def test_a_cursor_round_trips_its_position() -> None:
    # Given a position from storage (DynamoDB numbers arrive as Decimal)
    codec = CursorCodec(KEY)
    # When it is sealed and opened for the same list and tenant
    cursor = codec.seal(POSITION, LEDGER_A)
    assert cursor is not None
    assert len(cursor) <= MAX_CURSOR_LENGTH
    # Then the same position comes back
    assert codec.open(cursor, LEDGER_A) == {**POSITION, "n": 3}


def test_no_position_means_no_next_page() -> None:
    assert CursorCodec(KEY).seal(None, LEDGER_A) is None
    assert CursorCodec(KEY).open(None, LEDGER_A) is None


@pytest.mark.parametrize(
    "scope",
    [CursorScope("ledger", "tenant-b"), CursorScope("calls", "tenant-a"), CursorScope("ledger")],
)
def test_a_cursor_is_refused_for_another_tenant_or_list(scope: CursorScope) -> None:
    # Given tenant A's ledger cursor
    codec = CursorCodec(KEY)
    cursor = codec.seal(POSITION, LEDGER_A)
    # When it is presented to another tenant's or another list's route
    # Then it is a 400 (malformed request), never a storage call
    with pytest.raises(InvalidCursor) as refused:
        codec.open(cursor, scope)
    assert isinstance(refused.value, MalformedRequest)
    assert refused.value.status == 400


def test_a_forged_cursor_naming_another_partition_is_refused() -> None:
    # Given a cursor whose payload was rewritten to name tenant B's partition
    codec = CursorCodec(KEY)
    cursor = codec.seal(POSITION, LEDGER_A)
    assert cursor is not None
    other = codec.seal({**POSITION, "PK": "TENANT#tenant-b"}, LEDGER_A)
    assert other is not None
    forged = ".".join((cursor.split(".")[0], other.split(".")[1], cursor.split(".")[2]))
    # When it is opened / Then the signature does not match
    with pytest.raises(InvalidCursor):
        codec.open(forged, LEDGER_A)
    # And a cursor signed with another key is refused too
    with pytest.raises(InvalidCursor):
        CursorCodec(b"z" * 32).open(cursor, LEDGER_A)


def test_the_required_partition_is_checked_after_the_signature() -> None:
    # Given a validly signed cursor whose position is not in the required partition
    codec = CursorCodec(KEY)
    cursor = codec.seal({**POSITION, "PK": "TENANT#tenant-b"}, LEDGER_A)
    # Then it is refused
    with pytest.raises(InvalidCursor):
        codec.open(cursor, LEDGER_A, require={"PK": "TENANT#tenant-a"})


@pytest.mark.parametrize(
    "garbage",
    ["x", "c1..", "c1.e30.short", "c1.%%%.AAAAAAAAAAAAAAAAAAAAAA", "c1." + "A" * 2000 + ".x"],
)
def test_garbage_is_a_400(garbage: str) -> None:
    with pytest.raises(InvalidCursor):
        CursorCodec(KEY).open(garbage, LEDGER_A)


def test_the_key_comes_from_settings_and_deployed_stages_need_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a key in the environment
    monkeypatch.setenv(CURSOR_KEY_ENV, "s" * 32)
    reset_settings_cache()
    cursor = cursor_codec().seal(POSITION, LEDGER_A)
    # Then a codec with that key opens the cursor
    assert CursorCodec(b"s" * 32).open(cursor, LEDGER_A) is not None
    # And a deployed stage without any key fails loudly instead of signing with nothing
    monkeypatch.delenv(CURSOR_KEY_ENV)
    monkeypatch.setenv("ATENDE_STAGE", "prod")
    reset_settings_cache()
    with pytest.raises(ConfigurationError):
        cursor_codec()
    reset_settings_cache()


def test_page_of_answers_the_one_shape() -> None:
    page = page_of(["a", "b"], None, LEDGER_A)
    assert isinstance(page, Page)
    assert page.model_dump() == {"items": ["a", "b"], "next_cursor": None}
