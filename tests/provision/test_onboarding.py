"""Onboarding end to end: admin API handler → provisioning queue (moto) → worker → fake LiveKit."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from livekit.api import TokenVerifier

from atende_shared.rooms import tenant_from_metadata
from tests.provision.apigw import number_path
from tests.provision.conftest import API_KEY, API_SECRET, Stack

TENANT = "pizzaria-bella"
NUMBER_RAW = "+55 (11) 3000-0001"
NUMBER = "+551130000001"
MENU = {
    "items": [
        {
            "item_id": "marg",
            "name": "Pizza Margherita",
            "aliases": ["margarita"],
            "price_cents": 4990,
            "options": [{"option_id": "broto", "name": "Broto", "price_cents": 2990}],
        },
        {"item_id": "coke", "name": "Coca-Cola 2L", "price_cents": 1400},
    ]
}


def onboard(stack: Stack) -> None:
    assert (
        stack.admin("POST", "/v1/tenants", body={"tenant_id": TENANT, "name": "Bella"}).status
        == 201
    )
    agent = stack.admin(
        "PUT",
        f"/v1/tenants/{TENANT}/agent",
        body={"greeting": "Pizzaria Bella, boa noite!", "transfer_number": "+55 11 99999-0000"},
    )
    assert agent.status == 200, agent.body
    assert stack.admin("PUT", f"/v1/tenants/{TENANT}/menu", body=MENU).status == 200


def test_onboarding_provisions_the_number(stack: Stack) -> None:
    # Given a tenant with agent and menu
    onboard(stack)
    # When the admin assigns a number (any usual spelling)
    assigned = stack.admin(
        "POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": NUMBER_RAW}
    )
    # Then 202 with the normalised number, pending
    assert assigned.status == 202, assigned.body
    assert assigned.body["number"] == NUMBER
    assert assigned.body["status"] == "pending"
    # When the worker processes the queue
    answer = stack.pump()
    # Then no record failed and the number is active with its LiveKit ids
    assert answer["batchItemFailures"] == []
    listed = stack.admin("GET", f"/v1/tenants/{TENANT}/phone-numbers")
    [phone] = listed.body["items"]
    assert phone["status"] == "active"
    [trunk] = stack.fake.trunks()
    [rule] = stack.fake.rules()
    assert phone["trunk_id"] == trunk.sip_trunk_id
    assert phone["dispatch_rule_id"] == rule.sip_dispatch_rule_id
    assert tenant_from_metadata(rule.room_config.agents[0].metadata) == TENANT
    # And the agent config and menu read back
    agent = stack.admin("GET", f"/v1/tenants/{TENANT}/agent").body
    assert agent["transfer_number"] == "+5511999990000"
    menu = stack.admin("GET", f"/v1/tenants/{TENANT}/menu").body
    assert {i["item_id"] for i in menu["menu"]["items"]} == {"marg", "coke"}


def test_release_through_the_api_removes_everything(stack: Stack) -> None:
    onboard(stack)
    stack.admin("POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": NUMBER})
    stack.pump()
    released = stack.admin("DELETE", number_path(TENANT, NUMBER))
    assert released.status == 202, released.body
    assert released.body["status"] == "releasing"
    assert stack.pump()["batchItemFailures"] == []
    assert stack.fake.trunks() == []
    assert stack.fake.rules() == []
    assert stack.admin("GET", f"/v1/tenants/{TENANT}/phone-numbers").body["items"] == []
    # And the number is free for another tenant now
    stack.admin("POST", "/v1/tenants", body={"tenant_id": "burger-joint", "name": "B"})
    again = stack.admin("POST", "/v1/tenants/burger-joint/phone-numbers", body={"number": NUMBER})
    assert again.status == 202


def test_suspend_via_api_reaches_livekit_through_eventbridge(stack: Stack) -> None:
    onboard(stack)
    stack.admin("POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": NUMBER})
    stack.pump()
    # When the admin suspends the tenant
    suspended = stack.admin("POST", f"/v1/tenants/{TENANT}/suspend")
    assert suspended.body == {
        "tenant_id": TENANT,
        "status": "suspended",
        "suspended_for": ["admin"],
        "changed": True,
    }
    # Then TenantSuspended arrives on the provisioning queue (EventBridge rule) ...
    messages = stack.receive()
    bodies = [json.loads(m["Body"]) for m in messages]
    assert [b["detail-type"] for b in bodies] == ["TenantSuspended"]
    assert bodies[0]["detail"]["reason"] == "admin"
    # ... and the worker flips the rule into suspended mode, keeping the dispatch
    answer = stack.worker_event(messages)
    from functions.provision.handlers import worker
    from tests.provision.apigw import lambda_context

    assert worker.handler(answer, lambda_context())["batchItemFailures"] == []
    [rule] = stack.fake.rules()
    assert rule.attributes["atende.mode"] == "suspended"
    phones = stack.admin("GET", f"/v1/tenants/{TENANT}/phone-numbers").body["items"]
    assert phones[0]["status"] == "suspended"
    # Suspending twice is a no-op answer
    assert stack.admin("POST", f"/v1/tenants/{TENANT}/suspend").body["changed"] is False
    # Resume brings it back
    assert stack.admin("POST", f"/v1/tenants/{TENANT}/resume").body["status"] == "active"
    assert stack.pump()["batchItemFailures"] == []
    [rule] = stack.fake.rules()
    assert rule.attributes["atende.mode"] == "active"


def test_test_call_token_has_the_right_grants_and_expiry(stack: Stack) -> None:
    onboard(stack)
    before = datetime.now(UTC).timestamp()
    answer = stack.admin("POST", f"/v1/tenants/{TENANT}/test-call-token")
    assert answer.status == 200, answer.body
    body = answer.body
    claims = TokenVerifier(API_KEY, API_SECRET).verify(body["token"])
    # One room, under the tenant's prefix, join only
    assert claims.video is not None
    assert claims.video.room_join is True
    assert claims.video.room == body["room_name"]
    assert body["room_name"].startswith("atd_pizzaria-bella_test-")
    assert not claims.video.room_admin
    assert not claims.video.room_create
    # The voice agent is dispatched with the tenant in its metadata
    assert claims.room_config is not None
    [agent] = claims.room_config.agents
    assert agent.agent_name == "atende-voice-agent"
    assert tenant_from_metadata(agent.metadata) == TENANT
    # Short-lived: 10 minutes by default
    import jwt

    raw = jwt.decode(body["token"], API_SECRET, algorithms=["HS256"], issuer=API_KEY)
    assert before + 590 <= raw["exp"] <= before + 610
    assert raw["sub"] == body["identity"]
    assert body["livekit_url"] == stack.fake.url
    # Unknown tenants get no token
    assert stack.admin("POST", "/v1/tenants/ghost-tenant/test-call-token").status == 404


def test_scheduled_reconcile_repairs_and_reports(stack: Stack) -> None:
    from functions.provision.handlers import reconcile
    from tests.provision.apigw import lambda_context

    # Given a provisioned number whose rule someone deleted in LiveKit
    onboard(stack)
    stack.admin("POST", f"/v1/tenants/{TENANT}/phone-numbers", body={"number": NUMBER})
    stack.pump()
    [rule] = stack.fake.rules()
    with stack.fake.state.lock:
        del stack.fake.state.rules[rule.sip_dispatch_rule_id]
    # When the schedule fires the reconcile Lambda
    report = reconcile.handler({"source": "aws.events"}, lambda_context())
    # Then it reports the repair and LiveKit holds a rule again
    assert report["repairs"] == [
        {"tenant_id": TENANT, "number": NUMBER, "drift": ["rule_missing"], "result": "repaired"}
    ]
    assert report["orphans"] == []
    assert len(stack.fake.rules()) == 1
    phone = stack.admin("GET", f"/v1/tenants/{TENANT}/phone-numbers").body["items"][0]
    assert phone["dispatch_rule_id"] == stack.fake.rules()[0].sip_dispatch_rule_id
