"""The fake LiveKit enforces the documented SIP contract (what the provisioner relies on)."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

import pytest
from livekit import api

from atende_local.fake_livekit import FakeLiveKit
from tests.provision.conftest import API_KEY, API_SECRET

T = TypeVar("T")


def call(fake: FakeLiveKit, work: Callable[[api.LiveKitAPI], Awaitable[T]], **kw: str) -> T:
    async def go() -> T:
        client = api.LiveKitAPI(
            fake.url, kw.get("key", API_KEY), kw.get("secret", API_SECRET), failover=False
        )
        try:
            return await work(client)
        finally:
            await client.aclose()

    return asyncio.run(go())


def trunk(number: str | None, name: str = "t") -> api.CreateSIPInboundTrunkRequest:
    numbers = [number] if number else []
    return api.CreateSIPInboundTrunkRequest(
        trunk=api.SIPInboundTrunkInfo(name=name, numbers=numbers)
    )


def rule(trunk_ids: list[str]) -> api.CreateSIPDispatchRuleRequest:
    return api.CreateSIPDispatchRuleRequest(
        dispatch_rule=api.SIPDispatchRuleInfo(
            trunk_ids=trunk_ids,
            rule=api.SIPDispatchRule(
                dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="p_")
            ),
        )
    )


def test_ids_are_generated(fake_lk: FakeLiveKit) -> None:
    created = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    assert created.sip_trunk_id.startswith("ST_")
    made = call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([created.sip_trunk_id])))
    assert made.sip_dispatch_rule_id.startswith("SDR_")


def test_second_trunk_for_a_number_is_invalid_argument(fake_lk: FakeLiveKit) -> None:
    first = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    with pytest.raises(api.ServerError) as refused:
        call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    assert refused.value.code == "invalid_argument"
    assert refused.value.status == 400
    assert "Conflicting inbound SIP Trunks" in refused.value.message
    assert first.sip_trunk_id in refused.value.message


def test_duplicate_dispatch_rule_is_refused(fake_lk: FakeLiveKit) -> None:
    t = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))
    with pytest.raises(api.ServerError, match="Conflicting SIP Dispatch Rules"):
        call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))


def test_delete_semantics(fake_lk: FakeLiveKit) -> None:
    # Deleting an unknown trunk succeeds
    call(fake_lk, lambda c: c.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id="ST_nope")))
    # Deleting an unknown rule is not_found
    with pytest.raises(api.ServerError) as missing:
        call(
            fake_lk,
            lambda c: c.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id="SDR_nope")
            ),
        )
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    # Deleting a trunk leaves its rules
    t = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))
    call(
        fake_lk,
        lambda c: c.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=t.sip_trunk_id)),
    )
    assert fake_lk.trunks() == []
    assert len(fake_lk.rules()) == 1


def test_list_filters_are_loose(fake_lk: FakeLiveKit) -> None:
    wanted = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk("+5522")))
    numberless = call(fake_lk, lambda c: c.sip.create_inbound_trunk(trunk(None)))
    listed = call(
        fake_lk,
        lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest(numbers=["+5511"])),
    )
    assert {t.sip_trunk_id for t in listed.items} == {wanted.sip_trunk_id, numberless.sip_trunk_id}
    bound = call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([wanted.sip_trunk_id])))
    unbound = call(fake_lk, lambda c: c.sip.create_dispatch_rule(rule([])))
    rules = call(
        fake_lk,
        lambda c: c.sip.list_dispatch_rule(
            api.ListSIPDispatchRuleRequest(trunk_ids=[wanted.sip_trunk_id])
        ),
    )
    assert {r.sip_dispatch_rule_id for r in rules.items} == {
        bound.sip_dispatch_rule_id,
        unbound.sip_dispatch_rule_id,
    }


def test_auth_requires_a_valid_token_with_the_sip_admin_grant(fake_lk: FakeLiveKit) -> None:
    with pytest.raises(api.ServerError) as bad_secret:
        call(
            fake_lk,
            lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()),
            secret="wrong-secret-wrong-secret-wrong-00",
        )
    assert bad_secret.value.code == "unauthenticated"
    # A valid token without sip.admin (a room token) is permission_denied
    token = (
        api.AccessToken(API_KEY, API_SECRET)
        .with_identity("caller")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .with_ttl(timedelta(minutes=1))
        .to_jwt()
    )
    request = urllib.request.Request(
        f"{fake_lk.url}/twirp/livekit.SIP/ListSIPInboundTrunk",
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=5)
    assert denied.value.code == 403
    assert json.loads(denied.value.read())["code"] == "permission_denied"


def test_json_twirp_is_spoken_too(fake_lk: FakeLiveKit) -> None:
    token = api.AccessToken(API_KEY, API_SECRET).with_sip_grants(api.SIPGrants(admin=True)).to_jwt()
    body = json.dumps({"trunk": {"name": "j", "numbers": ["+5533"]}}).encode()
    request = urllib.request.Request(
        f"{fake_lk.url}/twirp/livekit.SIP/CreateSIPInboundTrunk",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        created = json.loads(answer.read())
    assert created["sipTrunkId"].startswith("ST_")
    assert created["numbers"] == ["+5533"]


def test_faults_can_be_injected(fake_lk: FakeLiveKit) -> None:
    fake_lk.fail_next("ListSIPInboundTrunk", status=503)
    with pytest.raises(api.ServerError) as unavailable:
        call(fake_lk, lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()))
    assert unavailable.value.status == 503
    # The fault is consumed: the next call works
    call(fake_lk, lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()))
    # A timeout that still applies the effect (the ambiguous case)
    fake_lk.timeout_next("CreateSIPInboundTrunk", seconds=0.3, apply=True)

    async def short_timeout(c: api.LiveKitAPI) -> object:
        return await c.sip.create_inbound_trunk(trunk("+5544"))

    async def go() -> None:
        client = api.LiveKitAPI(fake_lk.url, API_KEY, API_SECRET, failover=False)
        try:
            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(short_timeout(client), 0.1)
        finally:
            await client.aclose()

    asyncio.run(go())
    import time

    time.sleep(0.4)
    assert [list(t.numbers) for t in fake_lk.trunks()] == [["+5544"]]


def test_pagination_by_id_is_followed_to_the_end(
    fake_lk: FakeLiveKit, monkeypatch: pytest.MonkeyPatch
) -> None:
    from functions.provision.dal import livekit_sip

    for i in range(5):
        call(fake_lk, lambda c, i=i: c.sip.create_inbound_trunk(trunk(f"+55110000000{i}")))  # type: ignore[misc]
    monkeypatch.setattr(livekit_sip, "PAGE_SIZE", 2)

    async def list_all() -> list[str]:
        client = livekit_sip.LiveKitSip(fake_lk.url, API_KEY, API_SECRET, timeout_seconds=5)
        try:
            return [t.sip_trunk_id for t in await client.list_trunks()]
        finally:
            await client.close()

    listed = asyncio.run(list_all())
    assert sorted(listed) == sorted(t.sip_trunk_id for t in fake_lk.trunks())
    assert len(set(listed)) == 5
    assert fake_lk.calls.count("ListSIPInboundTrunk") == 3
