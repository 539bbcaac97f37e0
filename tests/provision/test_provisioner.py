"""ensure/release against the fake LiveKit, with in-memory DAL fakes."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from atende_local.fake_livekit import FakeLiveKit
from atende_shared.models.tenant import TenantStatus
from atende_shared.rooms import TENANT_ATTRIBUTE, tenant_from_metadata
from functions.provision.logic.desired import desired_trunk
from functions.provision.models.api import PhoneStatus
from functions.provision.models.errors import NumberOwnedElsewhere, SipRejected, SipUnavailable
from tests.provision.world import AGENT, World

NUMBER = "+551130000001"


@pytest.fixture
def world(fake_lk: FakeLiveKit) -> World:
    w = World(fake_lk)
    w.add_tenant("pizzaria-bella")
    w.add_tenant("burger-joint")
    return w


@pytest.fixture
def both(sip_server: Any) -> World:
    """The world over the fake or the real livekit-server (tests that need no fault
    injection or call log run against both: the real server is the contract)."""
    w = World(sip_server)
    w.add_tenant("pizzaria-bella")
    w.add_tenant("burger-joint")
    return w


def test_ensure_creates_one_trunk_and_one_rule_shaped_for_the_tenant(both: World) -> None:
    # Given a number assigned to the tenant
    both.assign("pizzaria-bella", NUMBER)
    # When ensure runs
    record = both.ensure("pizzaria-bella", NUMBER)
    # Then exactly one trunk holds the number, tagged with the tenant
    [trunk] = both.fake.trunks()
    assert list(trunk.numbers) == [NUMBER]
    assert trunk.sip_trunk_id.startswith("ST_")
    assert "pizzaria-bella" in trunk.name
    assert json.loads(trunk.metadata)["tenant_id"] == "pizzaria-bella"
    # And one rule: individual room per call under the tenant's prefix, explicit dispatch
    [rule] = both.fake.rules()
    assert rule.sip_dispatch_rule_id.startswith("SDR_")
    assert list(rule.trunk_ids) == [trunk.sip_trunk_id]
    assert rule.rule.dispatch_rule_individual.room_prefix == "atd_pizzaria-bella_"
    [agent] = rule.room_config.agents
    assert agent.agent_name == AGENT
    assert tenant_from_metadata(agent.metadata) == "pizzaria-bella"
    assert rule.attributes[TENANT_ATTRIBUTE] == "pizzaria-bella"
    assert tenant_from_metadata(rule.metadata) == "pizzaria-bella"
    # And the ids are stored with status active
    assert record is not None
    assert record.status == PhoneStatus.ACTIVE
    assert (record.trunk_id, record.dispatch_rule_id) == (
        trunk.sip_trunk_id,
        rule.sip_dispatch_rule_id,
    )


def test_ensure_twice_changes_nothing(world: World) -> None:
    world.assign("pizzaria-bella", NUMBER)
    first = world.ensure("pizzaria-bella", NUMBER)
    world.fake.calls.clear()
    second = world.ensure("pizzaria-bella", NUMBER)
    assert first is not None
    assert second is not None
    assert (first.trunk_id, first.dispatch_rule_id) == (second.trunk_id, second.dispatch_rule_id)
    assert not [c for c in world.fake.calls if not c.startswith("List")]


def test_ten_concurrent_ensures_leave_exactly_one_trunk_and_one_rule(world: World) -> None:
    # Given the fake keeps LiveKit's race window open (concurrent creates both succeed)
    world.fake.race_window_seconds = 0.05
    world.assign("pizzaria-bella", NUMBER)
    results: list[object] = []
    barrier = threading.Barrier(10)

    def worker() -> None:
        barrier.wait()
        try:
            results.append(world.ensure("pizzaria-bella", NUMBER))
        except Exception as exc:
            results.append(exc)

    # When 10 threads ensure the same number at once
    threads = [threading.Thread(target=worker) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    # Then all succeed and LiveKit holds exactly one trunk and one rule
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(world.fake.trunks()) == 1
    assert len(world.fake.rules()) == 1
    assert world.fake.calls.count("CreateSIPInboundTrunk") == 1
    assert world.fake.calls.count("CreateSIPDispatchRule") == 1


def test_without_the_lease_the_fake_lets_concurrent_creates_both_succeed(world: World) -> None:
    """The contract the lease exists for: LiveKit's conflict check is not atomic."""
    import asyncio

    from functions.provision.dal.livekit_sip import LiveKitSip
    from tests.provision.conftest import API_KEY, API_SECRET

    world.fake.race_window_seconds = 0.2

    async def create_two() -> list[object]:
        client = LiveKitSip(world.fake.url, API_KEY, API_SECRET, timeout_seconds=5)
        try:
            trunk = desired_trunk("pizzaria-bella", NUMBER)
            return list(
                await asyncio.gather(
                    client.create_trunk(trunk), client.create_trunk(trunk), return_exceptions=True
                )
            )
        finally:
            await client.close()

    outcomes = asyncio.run(create_two())
    assert not [o for o in outcomes if isinstance(o, Exception)]
    assert len(world.fake.trunks()) == 2


def test_crash_between_trunk_and_rule_converges_on_the_next_run(both: World) -> None:
    both.assign("pizzaria-bella", NUMBER)

    def crash(trunk_id: str) -> None:
        raise RuntimeError("Lambda died after creating " + trunk_id)

    # Given a run that dies right after creating (and storing) the trunk
    with pytest.raises(RuntimeError):
        both.ensure("pizzaria-bella", NUMBER, after_trunk=crash)
    assert len(both.fake.trunks()) == 1
    assert both.fake.rules() == []
    # And a lease that was never released (the process died): expire it
    both.leases.leases.clear()
    # When the message is redelivered
    record = both.ensure("pizzaria-bella", NUMBER)
    # Then one trunk (the same) and one rule exist
    [trunk] = both.fake.trunks()
    assert len(both.fake.rules()) == 1
    assert record is not None
    assert record.trunk_id == trunk.sip_trunk_id
    assert record.status == PhoneStatus.ACTIVE


def test_a_crash_that_lost_the_stored_trunk_id_adopts_the_tagged_trunk(both: World) -> None:
    # Given a trunk created for this tenant and number, unknown to DynamoDB
    both.assign("pizzaria-bella", NUMBER)
    both.run(lambda d: d.sip.create_trunk(desired_trunk("pizzaria-bella", NUMBER)))
    [existing] = both.fake.trunks()
    # When ensure runs
    record = both.ensure("pizzaria-bella", NUMBER)
    # Then it adopts the trunk instead of failing on the conflict
    assert record is not None
    assert record.trunk_id == existing.sip_trunk_id
    assert len(both.fake.trunks()) == 1


def test_timed_out_create_that_did_succeed_converges(world: World) -> None:
    # Given LiveKit applies the create but the answer never arrives in time
    world.timeout_seconds = 0.5
    world.fake.timeout_next("CreateSIPInboundTrunk", seconds=1.0, apply=True)
    world.assign("pizzaria-bella", NUMBER)
    # When ensure retries the create, LiveKit answers "Conflicting ..." and it adopts
    record = world.ensure("pizzaria-bella", NUMBER)
    assert record is not None
    assert record.status == PhoneStatus.ACTIVE
    assert len(world.fake.trunks()) == 1
    assert len(world.fake.rules()) == 1


def test_another_tenants_trunk_is_refused_and_marked_error(both: World) -> None:
    # Given LiveKit already has a trunk for the number, tagged for another tenant
    both.run(lambda d: d.sip.create_trunk(desired_trunk("burger-joint", NUMBER)))
    both.assign("pizzaria-bella", NUMBER)
    # When ensure runs for pizzaria-bella
    with pytest.raises(NumberOwnedElsewhere) as refused:
        both.ensure("pizzaria-bella", NUMBER)
    # Then the number shows error with the reason, and the other trunk is untouched
    assert refused.value.status == 409
    record = both.record("pizzaria-bella", NUMBER)
    assert record.status == PhoneStatus.ERROR
    assert record.error is not None
    assert "not managed by Atende" in record.error
    assert len(both.fake.trunks()) == 1
    assert both.fake.rules() == []


def test_livekit_4xx_is_not_retried_and_marks_the_number_error(world: World) -> None:
    world.fake.fail_next("CreateSIPInboundTrunk", status=400, code="invalid_argument")
    world.assign("pizzaria-bella", NUMBER)
    with pytest.raises(SipRejected):
        world.ensure("pizzaria-bella", NUMBER)
    assert world.fake.calls.count("CreateSIPInboundTrunk") == 1
    record = world.record("pizzaria-bella", NUMBER)
    assert record.status == PhoneStatus.ERROR
    assert record.error is not None
    assert "injected failure" in record.error


def test_livekit_5xx_is_retried_with_backoff(world: World) -> None:
    world.fake.fail_next("CreateSIPInboundTrunk", count=2, status=503)
    world.assign("pizzaria-bella", NUMBER)
    record = world.ensure("pizzaria-bella", NUMBER)
    assert record is not None
    assert record.status == PhoneStatus.ACTIVE
    assert world.fake.calls.count("CreateSIPInboundTrunk") == 3


def test_persistent_5xx_gives_up_retryably_and_opens_the_breaker(world: World) -> None:
    from functions.provision.logic.resilience import CircuitBreaker

    world.breaker = CircuitBreaker(threshold=3, reset_seconds=60)
    world.fake.fail_next(count=100, status=503)
    world.assign("pizzaria-bella", NUMBER)
    with pytest.raises(SipUnavailable):
        world.ensure("pizzaria-bella", NUMBER)
    assert world.breaker.state == "open"
    # When another ensure runs while it is open, LiveKit is not even called
    calls_before = len(world.fake.calls)
    with pytest.raises(SipUnavailable, match="circuit breaker is open"):
        world.ensure("pizzaria-bella", NUMBER)
    assert len(world.fake.calls) == calls_before
    # And the number keeps its pending status (retry later, not an error)
    assert world.record("pizzaria-bella", NUMBER).status == PhoneStatus.PENDING


def test_release_deletes_rule_then_trunk_and_is_safe_to_repeat(world: World) -> None:
    world.assign("pizzaria-bella", NUMBER)
    world.ensure("pizzaria-bella", NUMBER)
    world.fake.calls.clear()
    assert world.release("pizzaria-bella", NUMBER) is True
    deletes = [c for c in world.fake.calls if c.startswith("Delete")]
    assert deletes == ["DeleteSIPDispatchRule", "DeleteSIPTrunk"]
    assert world.fake.trunks() == []
    assert world.fake.rules() == []
    assert world.phones.get("pizzaria-bella", NUMBER) is None
    assert world.phones.owner(NUMBER) is None
    # When released again, nothing fails
    assert world.release("pizzaria-bella", NUMBER) is False


def test_release_never_touches_another_tenants_trunk(both: World) -> None:
    both.run(lambda d: d.sip.create_trunk(desired_trunk("burger-joint", NUMBER)))
    both.release("pizzaria-bella", NUMBER)
    assert len(both.fake.trunks()) == 1


def test_suspended_tenant_keeps_dispatch_in_suspended_mode(both: World) -> None:
    from functions.provision.logic.provisioner import apply_tenant_status

    both.assign("pizzaria-bella", NUMBER)
    both.ensure("pizzaria-bella", NUMBER)
    # When the tenant is suspended and the status is applied
    both.add_tenant("pizzaria-bella", TenantStatus.SUSPENDED)
    outcome = both.run(lambda d: apply_tenant_status(d, "pizzaria-bella"))
    # Then calls still reach the agent (same trunk and rule) in suspended mode
    assert outcome.updated == [NUMBER]
    [rule] = both.fake.rules()
    assert rule.attributes["atende.mode"] == "suspended"
    assert len(rule.room_config.agents) == 1
    assert both.record("pizzaria-bella", NUMBER).status == PhoneStatus.SUSPENDED
    # And resuming flips it back, keeping the same rule id
    both.add_tenant("pizzaria-bella", TenantStatus.ACTIVE)
    both.run(lambda d: apply_tenant_status(d, "pizzaria-bella"))
    [after] = both.fake.rules()
    assert after.attributes["atende.mode"] == "active"
    assert after.sip_dispatch_rule_id == rule.sip_dispatch_rule_id
    assert both.record("pizzaria-bella", NUMBER).status == PhoneStatus.ACTIVE


def test_ensure_skips_a_number_being_released(both: World) -> None:
    record = both.assign("pizzaria-bella", NUMBER)
    both.phones.save(record.model_copy(update={"status": PhoneStatus.RELEASING}))
    assert both.ensure("pizzaria-bella", NUMBER) is None
    assert both.fake.trunks() == []


def test_ten_concurrent_tasks_in_one_loop_leave_one_trunk_and_one_rule(world: World) -> None:
    import asyncio

    from functions.provision.logic.provisioner import SipDeps, ensure

    world.fake.race_window_seconds = 0.05
    world.assign("pizzaria-bella", NUMBER)

    async def ten(deps: SipDeps) -> list[object]:
        return list(
            await asyncio.gather(
                *(ensure(deps, "pizzaria-bella", NUMBER) for _ in range(10)),
                return_exceptions=True,
            )
        )

    results = world.run(ten)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert len(world.fake.trunks()) == 1
    assert len(world.fake.rules()) == 1
