"""Shared value types: phone numbers, tenant ids, menus, events, rooms."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from atende_shared.dal.keys import tenant_pk
from atende_shared.events import (
    EVENT_TYPES,
    DomainEvent,
    OrderPlaced,
    UnknownEventType,
    parse_event,
    to_put_events_entry,
)
from atende_shared.models.common import normalise_e164
from atende_shared.models.menu import MAX_UPLOAD_ITEMS, Menu, MenuItem, MenuUpload
from atende_shared.models.tenant import Tenant
from atende_shared.rooms import (
    dispatch_metadata,
    room_prefix,
    tenant_from_metadata,
    tenant_from_room,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+55 11 3000-0000", "+551130000000"),
        ("+55 (11) 3000.0000", "+551130000000"),
        ("0055 11 30000000", "+551130000000"),
        ("+14155550100", "+14155550100"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw, expected):
    assert normalise_e164(raw) == expected


@pytest.mark.parametrize(
    "raw", ["11 3000-0000", "+0 11 3000", "+55abc", "", "+5511300000000000000"]
)
def test_phone_numbers_without_country_code_or_digits_are_refused(raw):
    with pytest.raises(ValueError, match=r"E\.164"):
        normalise_e164(raw)


@pytest.mark.parametrize("bad", ["A", "demo#other", "-demo", "demo_pizzaria", "x" * 70, "ab"[:1]])
def test_tenant_ids_that_could_escape_a_partition_are_refused(bad):
    with pytest.raises(ValueError, match="invalid tenant id"):
        tenant_pk(bad)
    with pytest.raises(ValidationError):
        Tenant(tenant_id=bad, name="x")


def test_a_menu_with_duplicate_item_ids_is_refused():
    item = MenuItem(item_id="pizza-1", name="Margherita", price_cents=4990)
    with pytest.raises(ValidationError, match="duplicate item ids: pizza-1"):
        Menu(items=[item, item])


def test_only_uploads_are_capped_a_synced_catalog_of_any_size_reads_back():
    items = [
        MenuItem(item_id=f"sku-{n}", name=f"Item {n}", price_cents=100)
        for n in range(MAX_UPLOAD_ITEMS * 4)
    ]
    # A catalog sync wrote 20,000 items: the menu the agent loads holds them all
    assert len(Menu(items=items).items) == 20_000
    # An admin upload is capped
    assert len(MenuUpload(items=items[:MAX_UPLOAD_ITEMS]).items) == MAX_UPLOAD_ITEMS
    with pytest.raises(ValidationError, match="at most 5000 items"):
        MenuUpload(items=items[: MAX_UPLOAD_ITEMS + 1])
    # Duplicates are still found in a large menu
    with pytest.raises(ValidationError, match=r"duplicate item ids: sku-7 \["):
        Menu(items=[*items, items[7]])


def test_money_is_integer_cents():
    with pytest.raises(ValidationError):
        MenuItem(item_id="x", name="x", price_cents=49.9)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        MenuItem(item_id="x", name="x", price_cents=-1)


def test_sold_out_items_are_not_sellable():
    assert not MenuItem(item_id="x", name="x", price_cents=1, stock=0).sellable
    assert MenuItem(item_id="x", name="x", price_cents=1, stock=None).sellable
    assert not MenuItem(item_id="x", name="x", price_cents=1, available=False).sellable


def test_events_round_trip_through_their_put_events_entry():
    event = OrderPlaced(
        tenant_id="demo-pizzaria",
        correlation_id="c-1",
        order_id="o-1",
        call_id="call-1",
        lines=[
            {
                "item_id": "pizza-1",
                "name": "Margherita",
                "quantity": 2,
                "unit_price_cents": 4990,
                "line_total_cents": 9980,
            }
        ],
        total_cents=9980,
        fulfilment="pickup",
    )
    entry = to_put_events_entry(event, bus_name="bus")
    assert entry["DetailType"] == "OrderPlaced"
    assert entry["Source"] == "atende"
    assert parse_event(entry["DetailType"], entry["Detail"]) == event


def test_unknown_event_types_are_refused():
    with pytest.raises(UnknownEventType):
        parse_event("SomethingElse", {})
    # every event class is registered, under its own detail type (a clash would drop one)
    assert set(EVENT_TYPES.values()) == set(DomainEvent.__subclasses__())


def test_rooms_and_metadata_name_their_tenant():
    prefix = room_prefix("demo-pizzaria")
    assert tenant_from_room(prefix + "call-123") == "demo-pizzaria"
    assert tenant_from_room("some-other-room") is None
    assert tenant_from_metadata(dispatch_metadata("demo-pizzaria")) == "demo-pizzaria"
    assert tenant_from_metadata('{"tenant_id": "Bad#Id"}') is None
    assert tenant_from_metadata("not json") is None
