"""The SIP contract the provisioner relies on, checked against the fake AND the real
livekit-server (``sip_server`` is parametrized fake|real); fault injection is the fake's own."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from livekit import api
from livekit.protocol.models import Pagination

from atende_local.fake_livekit import FakeLiveKit
from functions.provision.models.errors import SipRejected
from tests.provision.conftest import API_KEY, API_SECRET

T = TypeVar("T")


def call(fake: Any, work: Callable[[api.LiveKitAPI], Awaitable[T]], **kw: str) -> T:
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


def test_ids_are_generated(sip_server: Any) -> None:
    created = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    assert created.sip_trunk_id.startswith("ST_")
    made = call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([created.sip_trunk_id])))
    assert made.sip_dispatch_rule_id.startswith("SDR_")


def test_second_trunk_for_a_number_is_invalid_argument(sip_server: Any) -> None:
    first = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    with pytest.raises(api.ServerError) as refused:
        call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    assert refused.value.code == "invalid_argument"
    assert refused.value.status == 400
    assert "Conflicting inbound SIP Trunks" in refused.value.message
    assert first.sip_trunk_id in refused.value.message


def test_duplicate_dispatch_rule_is_refused(sip_server: Any) -> None:
    t = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))
    with pytest.raises(api.ServerError, match="combination already exists in dispatch rule") as e:
        call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))
    assert e.value.code == "invalid_argument"
    # And the provisioner recognises it as "someone made it already" (not a hard refusal)
    assert SipRejected(e.value.message, twirp_code=e.value.code).conflicting


def test_a_trunk_needs_numbers_addresses_or_credentials(sip_server: Any) -> None:
    with pytest.raises(api.ServerError) as refused:
        call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk(None)))
    assert (refused.value.code, refused.value.status) == ("invalid_argument", 400)
    assert "AuthUsername+AuthPassword, AllowedAddresses or Numbers" in refused.value.message


def test_lists_are_ordered_by_id_and_paged_after_an_id(sip_server: Any) -> None:
    made = [
        call(sip_server, lambda c, i=i: c.sip.create_inbound_trunk(trunk(f"+55110000{i}")))  # type: ignore[misc]
        for i in range(4)
    ]
    ids = sorted(t.sip_trunk_id for t in made)
    listed = call(sip_server, lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()))
    assert [t.sip_trunk_id for t in listed.items] == ids
    # limit is the server's own page size: the answer holds everything after after_id
    paged = call(
        sip_server,
        lambda c: c.sip.list_inbound_trunk(
            api.ListSIPInboundTrunkRequest(page=Pagination(after_id=ids[0], limit=1))
        ),
    )
    assert [t.sip_trunk_id for t in paged.items] == ids[1:]
    # and the server leaves the timestamps unset
    assert not listed.items[0].HasField("created_at")


def test_an_update_is_checked_only_against_trunks_sharing_a_stored_number(
    sip_server: Any,
) -> None:
    held = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    other = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5522")))
    # Adding the taken number to a trunk whose stored numbers overlap the new set: refused
    with pytest.raises(api.ServerError, match="Conflicting inbound SIP Trunks"):
        call(
            sip_server,
            lambda c: c.sip.update_inbound_trunk_fields(
                other.sip_trunk_id, numbers=["+5522", "+5511"]
            ),
        )
    # Moving it wholesale onto the taken number: not caught (LiveKit lists by the new
    # numbers and the updated trunk's stored version is not among them)
    moved = call(
        sip_server,
        lambda c: c.sip.update_inbound_trunk_fields(other.sip_trunk_id, numbers=["+5511"]),
    )
    assert list(moved.numbers) == ["+5511"]
    assert held.sip_trunk_id != moved.sip_trunk_id


def test_delete_semantics(sip_server: Any) -> None:
    # Deleting an unknown trunk succeeds
    call(
        sip_server, lambda c: c.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id="ST_nope"))
    )
    # Deleting an unknown rule is not_found
    with pytest.raises(api.ServerError) as missing:
        call(
            sip_server,
            lambda c: c.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id="SDR_nope")
            ),
        )
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    # Deleting a trunk leaves its rules
    t = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([t.sip_trunk_id])))
    call(
        sip_server,
        lambda c: c.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=t.sip_trunk_id)),
    )
    assert sip_server.trunks() == []
    assert len(sip_server.rules()) == 1


def test_list_filters_are_loose(sip_server: Any) -> None:
    wanted = call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5511")))
    call(sip_server, lambda c: c.sip.create_inbound_trunk(trunk("+5522")))
    numberless = call(
        sip_server,
        lambda c: c.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="auth", auth_username="u", auth_password="p")
            )
        ),
    )
    listed = call(
        sip_server,
        lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest(numbers=["+5511"])),
    )
    assert {t.sip_trunk_id for t in listed.items} == {wanted.sip_trunk_id, numberless.sip_trunk_id}
    bound = call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([wanted.sip_trunk_id])))
    unbound = call(sip_server, lambda c: c.sip.create_dispatch_rule(rule([])))
    rules = call(
        sip_server,
        lambda c: c.sip.list_dispatch_rule(
            api.ListSIPDispatchRuleRequest(trunk_ids=[wanted.sip_trunk_id])
        ),
    )
    assert {r.sip_dispatch_rule_id for r in rules.items} == {
        bound.sip_dispatch_rule_id,
        unbound.sip_dispatch_rule_id,
    }


def test_auth_requires_a_valid_token_with_the_sip_admin_grant(sip_server: Any) -> None:
    with pytest.raises(api.ServerError) as bad_secret:
        call(
            sip_server,
            lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()),
            secret="wrong-secret-wrong-secret-wrong-00",
        )
    # The auth middleware answers 401 in plain text (no Twirp body: the client reads "unknown")
    assert (bad_secret.value.code, bad_secret.value.status) == ("unknown", 401)
    # A valid token without sip.admin (a room token) is Twirp unauthenticated, also 401
    token = (
        api.AccessToken(API_KEY, API_SECRET)
        .with_identity("caller")
        .with_grants(api.VideoGrants(room_join=True, room="r"))
        .with_ttl(timedelta(minutes=1))
        .to_jwt()
    )
    request = urllib.request.Request(
        f"{sip_server.url}/twirp/livekit.SIP/ListSIPInboundTrunk",
        data=b"{}",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(request, timeout=5)
    assert denied.value.code == 401
    assert json.loads(denied.value.read()) == {
        "code": "unauthenticated",
        "msg": "permissions denied",
    }


def test_json_twirp_is_spoken_too(sip_server: Any) -> None:
    token = api.AccessToken(API_KEY, API_SECRET).with_sip_grants(api.SIPGrants(admin=True)).to_jwt()
    body = json.dumps({"trunk": {"name": "j", "numbers": ["+5533"]}}).encode()
    request = urllib.request.Request(
        f"{sip_server.url}/twirp/livekit.SIP/CreateSIPInboundTrunk",
        data=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as answer:
        created = json.loads(answer.read())
    # protojson with the proto field names, unset fields printed
    assert created["sip_trunk_id"].startswith("ST_")
    assert created["numbers"] == ["+5533"]
    assert created["allowed_addresses"] == []


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
    # The server answers everything after after_id whatever the limit (as the real one):
    # one full page, then an empty one that ends the walk
    assert fake_lk.calls.count("ListSIPInboundTrunk") == 2
