"""Whatever order, duplication or loss LiveKit delivers a call's events in, the call is
charged once, for the right amount, and its reservation is returned."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from functions.billing.logic.calls import handle_call_signal, sweep
from functions.billing.logic.livekit import signal_from_livekit
from functions.billing.models.session import CallSignal, SessionStatus
from tests.billing.builders import livekit_envelope, livekit_payload, livekit_signal, room_for
from tests.billing.conftest import TENANT, fund, tenant
from tests.billing.fakes import Clock, make_deps

T0 = datetime(2026, 11, 22, 15, 0, tzinfo=UTC)
JOIN = T0 + timedelta(seconds=2)
LEFT = JOIN + timedelta(seconds=125)
FINISHED = LEFT + timedelta(seconds=5)
ROOM = room_for(TENANT, "perm")

EVENTS = {
    "room_started": (T0, None),
    "participant_joined": (JOIN, JOIN),
    "participant_left": (LEFT, JOIN),
    "room_finished": (FINISHED, None),
}


def signal(name: str, room: str = ROOM, copy: int = 0) -> CallSignal:
    at, joined = EVENTS[name]
    payload = livekit_payload(name, room_name=room, at=at, event_id=f"EV_{name}", joined_at=joined)
    parsed = signal_from_livekit(livekit_envelope(None, payload))
    assert parsed is not None
    return parsed


def expected_amount(names: set[str]) -> int | None:
    """90 c/min per second, half-up. None = never connected (nothing charged)."""
    if "participant_left" in names:
        return 188  # 125 s → 187.5
    if "participant_joined" in names and "room_finished" in names:
        return 195  # 130 s (caller join → room end)
    if "participant_joined" in names:
        return 1_350  # no end ever: capped at max_call_seconds (900 s)
    return None


def run(sequence: list[str]) -> tuple[object, object]:
    clock = Clock(T0 + timedelta(seconds=200))
    deps = make_deps([tenant()], clock=clock)
    fund(deps, 10_000)
    for name in sequence:
        handle_call_signal(deps, signal(name))
    clock.advance(3 * 3_600)  # long after any grace and the maximum call length
    sweep(deps)
    return deps, clock


def sequences() -> list[list[str]]:
    names = list(EVENTS)
    found: list[list[str]] = []
    for size in range(1, len(names) + 1):
        for subset in itertools.combinations(names, size):
            found.extend(list(p) for p in itertools.permutations(subset))
    return found


ALL = sequences()  # 64 orders of every non-empty subset


def assert_converged(deps, names: set[str]) -> None:
    store = deps.store
    session = store.get_session(TENANT, ROOM)
    charges = [e for e in store.ledger[TENANT] if e.business_id == f"call:{ROOM}"]
    amount = expected_amount(names)
    balance = store.get_balance(TENANT)
    # The balance is the ledger's sum and no reservation is left behind
    assert balance.balance_cents == store.ledger_sum(TENANT)
    assert balance.reserved_cents == 0
    assert session.reserved_cents == 0
    if amount is None:
        assert session.status is SessionStatus.RELEASED
        assert charges == []
        assert balance.balance_cents == 10_000
        assert deps.publisher.unique_of_type("CallEnded") == []
    else:
        assert session.status is SessionStatus.RATED
        assert [c.amount_cents for c in charges] == [-amount]
        assert session.amount_cents == amount
        assert balance.balance_cents == 10_000 - amount
        ended = deps.publisher.unique_of_type("CallEnded")
        assert [e.amount_cents for e in ended] == [amount]


@pytest.mark.parametrize("sequence", ALL, ids=["+".join(s) for s in ALL])
def test_every_order_and_subset_charges_once(sequence):
    # Given some of a call's events in some order (then the sweeper, much later)
    deps, _ = run(sequence)
    # Then exactly one charge of the amount the delivered facts imply
    assert_converged(deps, set(sequence))


@pytest.mark.parametrize("seed", range(40))
def test_duplicated_and_shuffled_events_charge_once(seed):
    # Given every event delivered two or three times, shuffled
    rng = random.Random(seed)
    names = list(EVENTS)
    keep = [n for n in names if rng.random() < 0.85] or ["participant_left"]
    sequence = keep * 2 + rng.sample(keep, k=rng.randint(0, len(keep)))
    rng.shuffle(sequence)
    deps, _ = run(sequence)
    # Then the duplicates changed nothing
    assert_converged(deps, set(keep))


def test_reservation_is_held_while_the_call_runs():
    # Given a funded tenant
    deps = make_deps([tenant(reservation_minutes=5)], clock=Clock(T0))
    fund(deps, 10_000)
    # When the caller joins
    handle_call_signal(deps, signal("participant_joined"))
    # Then 5 minutes at 90 c are held, and available drops, while the balance does not
    balance = deps.store.get_balance(TENANT)
    assert (balance.balance_cents, balance.reserved_cents, balance.available_cents) == (
        10_000,
        450,
        9_550,
    )
    # When the caller leaves, the hold is replaced by the real charge
    handle_call_signal(deps, signal("participant_left"))
    balance = deps.store.get_balance(TENANT)
    assert (balance.balance_cents, balance.reserved_cents) == (10_000 - 188, 0)


def test_reservation_the_balance_cannot_cover_is_flagged():
    # Given an empty balance
    deps = make_deps([tenant()], clock=Clock(T0))
    # When a call starts
    outcome = handle_call_signal(deps, signal("participant_joined"))
    # Then the reservation is placed but flagged underfunded
    assert outcome.status == "reserved"
    assert outcome.session is not None
    assert outcome.session.underfunded is True


def test_room_finished_waits_for_a_late_participant_left():
    # Given the room finished first
    clock = Clock(T0)
    deps = make_deps([tenant()], clock=clock)
    fund(deps, 10_000)
    for name in ("participant_joined", "room_finished"):
        handle_call_signal(deps, signal(name))
    # When the sweeper runs inside the grace window, nothing is rated yet
    clock.now = FINISHED + timedelta(seconds=60)
    assert sweep(deps).closed == 0
    # And the late participant_left then rates the exact call
    handle_call_signal(deps, signal("participant_left"))
    session = deps.store.get_session(TENANT, ROOM)
    assert session is not None
    assert session.amount_cents == 188


def test_connection_aborted_releases_the_reservation():
    deps = make_deps([tenant()], clock=Clock(T0))
    fund(deps, 10_000)
    handle_call_signal(deps, signal("participant_joined"))
    payload = livekit_payload(
        "participant_connection_aborted", room_name=ROOM, at=JOIN, event_id="EV_abort"
    )
    outcome = handle_call_signal(deps, livekit_signal(None, payload))
    assert outcome.status == "released"
    assert deps.store.get_balance(TENANT).reserved_cents == 0
    assert deps.store.ledger_sum(TENANT) == 10_000


def test_agent_participant_and_foreign_rooms_are_ignored():
    payload = livekit_payload(
        "participant_left",
        room_name=ROOM,
        at=LEFT,
        event_id="EV_agent",
        participant_kind="AGENT",
    )
    assert signal_from_livekit(livekit_envelope(None, payload)) is None
    foreign = livekit_payload("room_started", room_name="someone-else", at=T0, event_id="EV_x")
    assert signal_from_livekit(livekit_envelope(None, foreign)) is None


def test_suspended_tenant_is_charged_no_more_than_the_minimum():
    from atende_shared.models.tenant import TenantStatus

    suspended = tenant().model_copy(update={"status": TenantStatus.SUSPENDED})
    deps = make_deps([suspended], clock=Clock(T0))
    fund(deps, 10_000)
    for name in ("participant_joined", "participant_left"):
        handle_call_signal(deps, signal(name))
    session = deps.store.get_session(TENANT, ROOM)
    assert session is not None
    assert session.amount_cents == 2  # one second at 90 c/min


def test_tenant_from_room_metadata_when_the_room_has_no_atende_prefix():
    from atende_shared.rooms import dispatch_metadata

    payload = livekit_payload("room_started", room_name="custom-room-1", at=T0, event_id="EV_m")
    payload["room"]["metadata"] = dispatch_metadata(TENANT)
    signal = livekit_signal(None, payload)
    assert (signal.tenant_id, signal.room_name) == (TENANT, "custom-room-1")
