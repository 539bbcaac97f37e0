"""Reconcile repairs each kind of drift between DynamoDB and LiveKit, and reports orphans."""

from __future__ import annotations

import pytest

from atende_local.fake_livekit import FakeLiveKit
from atende_shared.models.tenant import TenantStatus
from functions.provision.logic.desired import desired_rule, desired_trunk
from functions.provision.logic.provisioner import SipDeps
from functions.provision.logic.reconcile import ReconcileReport, reconcile
from functions.provision.models.api import PhoneStatus
from tests.provision.world import AGENT, World

A = "+551130000001"
B = "+551130000002"


@pytest.fixture
def world(fake_lk: FakeLiveKit) -> World:
    w = World(fake_lk)
    w.add_tenant("pizzaria-bella")
    w.assign("pizzaria-bella", A)
    w.ensure("pizzaria-bella", A)
    return w


def run(world: World, *, delete_orphans: bool = False) -> ReconcileReport:
    return world.run(lambda d: reconcile(d, delete_orphans=delete_orphans))


def assert_converged(world: World, number: str = A) -> None:
    trunks = [t for t in world.fake.trunks() if number in t.numbers]
    assert len(trunks) == 1
    rules = [r for r in world.fake.rules() if trunks[0].sip_trunk_id in r.trunk_ids]
    assert len(rules) == 1
    record = world.record("pizzaria-bella", number)
    assert (record.trunk_id, record.dispatch_rule_id) == (
        trunks[0].sip_trunk_id,
        rules[0].sip_dispatch_rule_id,
    )
    assert run(world).repairs == []  # and a second sweep finds nothing left


def test_no_drift_no_repair(world: World) -> None:
    report = run(world)
    assert report.repairs == []
    assert report.orphans == []
    assert (report.numbers_checked, report.trunks_seen, report.rules_seen) == (1, 1, 1)


def test_missing_trunk_is_recreated(world: World) -> None:
    # Given someone deleted the trunk (LiveKit leaves the rule dangling)
    [trunk] = world.fake.trunks()
    with world.fake.state.lock:
        del world.fake.state.trunks[trunk.sip_trunk_id]
    report = run(world)
    assert report.drift_kinds == {"trunk_missing"}
    # And the dangling old rule is reported as an orphan, not deleted without the flag
    assert [(o.kind, o.deleted) for o in report.orphans] == [("rule", False)]
    trunks = world.fake.trunks()
    assert len(trunks) == 1
    assert trunks[0].sip_trunk_id != trunk.sip_trunk_id


def test_missing_rule_is_recreated(world: World) -> None:
    [rule] = world.fake.rules()
    with world.fake.state.lock:
        del world.fake.state.rules[rule.sip_dispatch_rule_id]
    report = run(world)
    assert report.drift_kinds == {"rule_missing"}
    assert_converged(world)


def test_mismatched_numbers_are_fixed(world: World) -> None:
    [trunk] = world.fake.trunks()
    with world.fake.state.lock:
        stored = world.fake.state.trunks[trunk.sip_trunk_id]
        del stored.numbers[:]
        stored.numbers.append("+551199999999")
    report = run(world)
    assert report.drift_kinds == {"trunk_numbers"}
    [fixed] = world.fake.trunks()
    assert fixed.sip_trunk_id == trunk.sip_trunk_id
    assert list(fixed.numbers) == [A]
    assert_converged(world)


def test_mismatched_rule_is_replaced(world: World) -> None:
    [rule] = world.fake.rules()
    with world.fake.state.lock:
        stored = world.fake.state.rules[rule.sip_dispatch_rule_id]
        stored.rule.dispatch_rule_individual.room_prefix = "wrong_"
        stored.attributes.clear()
    report = run(world)
    assert report.drift_kinds == {"rule_mismatch"}
    [fixed] = world.fake.rules()
    assert fixed.rule.dispatch_rule_individual.room_prefix == "atd_pizzaria-bella_"
    assert fixed.sip_dispatch_rule_id == rule.sip_dispatch_rule_id
    assert_converged(world)


def test_suspension_missed_by_the_worker_is_applied(world: World) -> None:
    world.add_tenant("pizzaria-bella", TenantStatus.SUSPENDED)
    report = run(world)
    assert report.drift_kinds == {"rule_mismatch"}
    [rule] = world.fake.rules()
    assert rule.attributes["atende.mode"] == "suspended"
    assert world.record("pizzaria-bella", A).status == PhoneStatus.SUSPENDED


def test_duplicates_are_removed(world: World) -> None:
    # Given a second tagged trunk for the number (a pre-lease race): add it behind the
    # conflict check, as LiveKit's non-atomic check would have let it through
    extra = desired_trunk("pizzaria-bella", A)
    extra.sip_trunk_id = "ST_duplicate0001"
    with world.fake.state.lock:
        world.fake.state.trunks[extra.sip_trunk_id] = extra
    report = run(world)
    assert "duplicates" in report.drift_kinds
    assert [t.sip_trunk_id for t in world.fake.trunks()] != ["ST_duplicate0001"]
    assert_converged(world)


def test_stale_ids_and_lost_pending_are_fixed(world: World) -> None:
    # Given DynamoDB lost the ids (and still says pending: the queue message was lost)
    record = world.record("pizzaria-bella", A)
    world.phones.save(
        record.model_copy(
            update={"trunk_id": None, "dispatch_rule_id": None, "status": PhoneStatus.PENDING}
        )
    )
    report = run(world)
    assert report.drift_kinds == {"ids_stale"}
    assert world.record("pizzaria-bella", A).status == PhoneStatus.ACTIVE
    assert_converged(world)


def test_pending_number_never_provisioned_is_provisioned(world: World) -> None:
    world.assign("pizzaria-bella", B)  # the enqueue failed: nothing in LiveKit
    report = run(world)
    assert report.drift_kinds == {"trunk_missing"}
    assert_converged(world, B)


def test_unfinished_release_is_finished(world: World) -> None:
    record = world.record("pizzaria-bella", A)
    world.phones.save(record.model_copy(update={"status": PhoneStatus.RELEASING}))
    report = run(world)
    assert report.drift_kinds == {"release_unfinished"}
    assert world.fake.trunks() == []
    assert world.fake.rules() == []
    assert world.phones.get("pizzaria-bella", A) is None


def test_orphans_are_reported_and_deleted_only_behind_the_flag(world: World) -> None:
    # Given Atende-tagged trunk+rule for a number DynamoDB does not know
    async def create_orphans(d: SipDeps) -> None:
        trunk = await d.sip.create_trunk(desired_trunk("ghost-tenant", B))
        wanted = desired_rule(
            "ghost-tenant", B, trunk.sip_trunk_id, agent_name=AGENT, suspended=False
        )
        await d.sip.create_rule(wanted)

    world.run(create_orphans)
    # And a trunk someone made by hand (not tagged): never Atende's business
    manual = desired_trunk("x", "+551188888888")
    manual.metadata = ""
    world.run(lambda d: d.sip.create_trunk(manual))
    # When reconcile runs without the flag
    report = run(world)
    assert sorted((o.kind, o.number, o.deleted) for o in report.orphans) == [
        ("rule", B, False),
        ("trunk", B, False),
    ]
    assert len(world.fake.trunks()) == 3
    # When it runs with the flag
    report = run(world, delete_orphans=True)
    assert all(o.deleted for o in report.orphans)
    assert len(report.orphans) == 2
    remaining = {t.sip_trunk_id for t in world.fake.trunks()}
    assert len(remaining) == 2  # ours + the hand-made one
    assert len(world.fake.rules()) == 1


def test_report_is_json_ready(world: World) -> None:
    import json

    json.dumps(run(world).as_dict())
