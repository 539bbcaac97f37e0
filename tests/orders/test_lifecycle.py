"""The order record and its lifecycle, on the real DynamoDB store (moto)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from atende_shared.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from atende_shared.events import OrderStatus, OrderStatusChanged
from functions.orders.dal.protocol import OrderFilter
from functions.orders.logic.intake import place_order
from functions.orders.logic.lifecycle import change_status, get_order_by_number
from tests.orders.conftest import T0, TENANT, World, placed


@pytest.mark.parametrize("number", [None, 7], ids=["numbered-here", "numbered-by-channel"])
def test_the_same_order_delivered_five_times_out_of_order_makes_one_order(
    world: World, number: int | None
):
    # Given an OrderPlaced delivered, then accepted, then redelivered four more times
    # interleaved with further status changes
    event = placed("ord-dup", number=number)
    place_order(world.deps, event)
    change_status(world.deps, TENANT, "ord-dup", "accepted", actor="kitchen")
    place_order(world.deps, event)
    change_status(world.deps, TENANT, "ord-dup", "preparing", actor="kitchen")
    place_order(world.deps, event)
    place_order(world.deps, event)
    change_status(world.deps, TENANT, "ord-dup", "ready", actor="kitchen")
    place_order(world.deps, event)

    # Then there is one order, still where the status changes took it
    page = world.store.list_orders(TENANT, OrderFilter(), limit=50, after=None)
    assert [o.order_id for o in page.items] == ["ord-dup"]
    order = page.items[0]
    assert (order.status, order.version, order.order_number) == ("ready", 4, number or 1)
    assert [h.to_status for h in order.history] == ["received", "accepted", "preparing", "ready"]
    # And its arrival was announced once (status changes once each)
    received = [e for e in world.bus.events if isinstance(e, OrderStatusChanged) and e.version == 1]
    assert len(received) == 1


def test_numbers_are_sequential_per_tenant_and_a_channel_number_is_kept(world: World):
    # Given two orders without a number and one the channel numbered
    first = place_order(world.deps, placed("ord-a"))
    second = place_order(world.deps, placed("ord-b"))
    third = place_order(world.deps, placed("ord-c", number=42))
    # Then the kitchen sees 1, 2 and the channel's 42, each readable by its number
    assert (first.order_number, second.order_number, third.order_number) == (1, 2, 42)
    assert get_order_by_number(world.deps, TENANT, 2).order_id == "ord-b"
    with pytest.raises(NotFound):
        get_order_by_number(world.deps, TENANT, 7)


def test_a_taken_number_gets_a_fresh_one(world: World):
    # Given number 1 already belongs to another order
    place_order(world.deps, placed("ord-a", number=1))
    # When a second order arrives claiming the same number
    order = place_order(world.deps, placed("ord-b", number=1))
    # Then it is stored under a fresh, unique number
    assert order.order_number != 1
    assert get_order_by_number(world.deps, TENANT, order.order_number).order_id == "ord-b"


def test_schema_1_events_still_make_orders(world: World):
    # Given a schema-1 event (no subtotal, no channel, a plain address)
    from atende_shared.events import parse_event

    detail = placed("ord-v1").model_dump(mode="json")
    for key in ("subtotal_cents", "channel", "address", "order_number", "customer_name"):
        detail.pop(key)
    detail["schema_version"] = 1
    order = place_order(world.deps, parse_event("OrderPlaced", detail))  # type: ignore[arg-type]
    # Then the subtotal is the total minus the fee and the address is kept
    assert order.subtotal_cents == order.total_cents - order.delivery_fee_cents
    assert order.address is not None
    assert order.address.raw == "Rua A, 1"


def test_illegal_transition_names_the_allowed_ones(world: World):
    place_order(world.deps, placed("ord-1", fulfilment="pickup"))
    with pytest.raises(Conflict) as caught:
        change_status(world.deps, TENANT, "ord-1", "out_for_delivery", actor="kitchen")
    assert caught.value.details["allowed"] == ["accepted", "refused", "cancelled"]
    with pytest.raises(ValidationFailed):  # refusing needs a reason
        change_status(world.deps, TENANT, "ord-1", "refused", actor="kitchen")
    with pytest.raises(NotFound):
        change_status(world.deps, TENANT, "nope", "accepted", actor="kitchen")


def test_repeating_a_transition_is_a_no_op_and_a_stale_version_is_412(world: World):
    place_order(world.deps, placed("ord-1"))
    first = change_status(world.deps, TENANT, "ord-1", "accepted", actor="k", if_match=1)
    again = change_status(world.deps, TENANT, "ord-1", "accepted", actor="k", if_match=1)
    assert (first.changed, again.changed, again.order.version) == (True, False, 2)
    with pytest.raises(PreconditionFailed):
        change_status(world.deps, TENANT, "ord-1", "preparing", actor="k", if_match=1)


def test_two_concurrent_changes_on_one_version_one_wins_one_412(world: World):
    # Given an order at version 1 and two clerks who both saw version 1
    place_order(world.deps, placed("ord-race"))
    outcomes: list[str] = []
    barrier = threading.Barrier(2)
    # Both clerks have read version 1 before either writes (the worst interleaving).
    real = world.store.change_status

    def change_after_both_read(*args: Any, **kwargs: Any) -> Any:
        barrier.wait(timeout=5)
        return real(*args, **kwargs)

    world.store.change_status = change_after_both_read

    def clerk(target: OrderStatus, reason: str | None) -> None:
        try:
            change_status(
                world.deps, TENANT, "ord-race", target, actor=target, reason=reason, if_match=1
            )
            outcomes.append(f"won:{target}")
        except PreconditionFailed:
            outcomes.append(f"412:{target}")

    # When one accepts and the other refuses at the same time
    threads = [
        threading.Thread(target=clerk, args=("accepted", None)),
        threading.Thread(target=clerk, args=("refused", "closing early")),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    # Then exactly one change is stored and the other got 412
    assert sorted(o.split(":")[0] for o in outcomes) == ["412", "won"]
    order = world.store.get_order(TENANT, "ord-race")
    assert order is not None
    assert order.version == 2
    assert f"won:{order.status}" in outcomes


def test_newest_first_pages_and_filters(world: World):
    from datetime import timedelta

    for i in range(7):
        place_order(world.deps, placed(f"ord-{i}", at=T0 + timedelta(minutes=i)))
    change_status(world.deps, TENANT, "ord-2", "accepted", actor="k")
    change_status(world.deps, TENANT, "ord-5", "accepted", actor="k")

    page = world.store.list_orders(TENANT, OrderFilter(), limit=3, after=None)
    assert [o.order_id for o in page.items] == ["ord-6", "ord-5", "ord-4"]
    rest = world.store.list_orders(TENANT, OrderFilter(), limit=10, after=page.position)
    assert [o.order_id for o in rest.items] == ["ord-3", "ord-2", "ord-1", "ord-0"]
    assert rest.position is None

    accepted: OrderStatus = "accepted"
    found = world.store.list_orders(TENANT, OrderFilter(status=accepted), limit=1, after=None)
    assert [o.order_id for o in found.items] == ["ord-5"]
    more = world.store.list_orders(
        TENANT, OrderFilter(status=accepted), limit=5, after=found.position
    )
    assert [o.order_id for o in more.items] == ["ord-2"]

    period = OrderFilter(start=T0 + timedelta(minutes=2), end=T0 + timedelta(minutes=4))
    window = world.store.list_orders(TENANT, period, limit=50, after=None)
    assert [o.order_id for o in window.items] == ["ord-3", "ord-2"]
