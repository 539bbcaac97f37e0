"""What differs between providers: freshness windows, issuers, echoes, foreign rooms,
routing of custom event types, where the credential travels."""

from __future__ import annotations

import base64
import hashlib
import json
import time
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from atende_shared.resources import Queue
from tests.webhooks.cases import (
    CASES,
    LIVEKIT_KEY,
    LIVEKIT_SECRET,
    Req,
    bling_signature,
    livekit_event,
    livekit_token,
    standard_headers,
)
from tests.webhooks.conftest import Harness

LIVEKIT, BLING, ASAAS, PLUGGTO, ZAPI, EVOLUTION, CUSTOM = CASES


def _brt(moment: datetime) -> str:
    return (moment - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")


# -- LiveKit --------------------------------------------------------------------------------


def _livekit_req(body: bytes, token: str) -> Req:
    headers = {"Content-Type": "application/webhook+json", "Authorization": token}
    return Req("/webhooks/livekit", {}, headers, body)


@pytest.mark.parametrize(
    ("token_for", "why"),
    [
        (lambda b: livekit_token(b, key="APIsomeoneelse"), "issuer is not our API key"),
        (lambda b: livekit_token(b, ttl=timedelta(minutes=-10)), "token expired"),
        (lambda b: livekit_token(b, ttl=timedelta(hours=1)), "lifetime beyond LiveKit's 5 min"),
        (lambda b: livekit_token(b, secret="not-the-secret-" * 3), "signed with another secret"),
        (lambda b: "not-a-jwt", "garbage token"),
    ],
)
def test_livekit_token_problems_are_401(ingress: Harness, token_for, why: str) -> None:
    # Given a LiveKit delivery whose token is wrong in one way
    body = json.dumps(livekit_event("acme")).encode()

    # When it arrives, then 401 and nothing is enqueued
    assert ingress.send(_livekit_req(body, token_for(body))).status == 401, why
    assert ingress.total_messages() == 0


def test_livekit_token_not_yet_valid_is_401(ingress: Harness) -> None:
    # Given a correctly signed token whose nbf lies ten minutes ahead (a clock in the future)
    body = json.dumps(livekit_event("acme")).encode()
    now = int(time.time())
    token = jwt.encode(
        {
            "iss": LIVEKIT_KEY,
            "nbf": now + 600,
            "exp": now + 900,
            "sha256": base64.b64encode(hashlib.sha256(body).digest()).decode(),
        },
        LIVEKIT_SECRET,
        algorithm="HS256",
    )
    assert ingress.send(_livekit_req(body, token)).status == 401
    assert ingress.total_messages() == 0


def test_livekit_token_without_body_hash_is_401(ingress: Harness) -> None:
    body = json.dumps(livekit_event("acme")).encode()
    token = jwt.encode(
        {"iss": LIVEKIT_KEY, "exp": int(time.time()) + 120}, LIVEKIT_SECRET, algorithm="HS256"
    )
    assert ingress.send(_livekit_req(body, token)).status == 401


def test_livekit_event_of_a_room_atende_did_not_name_is_acknowledged_and_dropped(
    ingress: Harness,
) -> None:
    # Given an authentic event for a room someone else created on the same server
    data = livekit_event("acme")
    data["room"]["name"] = "standup-meeting"
    body = json.dumps(data).encode()

    # When it arrives, then 200 and nothing is enqueued
    answer = ingress.send(_livekit_req(body, livekit_token(body)))
    assert (answer.status, answer.body) == (200, {"status": "ignored"})
    assert ingress.total_messages() == 0


def test_livekit_event_without_room_is_ignored(ingress: Harness) -> None:
    data = livekit_event("acme", event="egress_ended")
    del data["room"]
    body = json.dumps(data).encode()
    assert ingress.send(_livekit_req(body, livekit_token(body))).body == {"status": "ignored"}


def test_livekit_envelope_carries_the_room_tenant_and_event(ingress: Harness) -> None:
    data = livekit_event("beta", event="room_finished")
    body = json.dumps(data).encode()
    assert ingress.send(_livekit_req(body, livekit_token(body))).status == 200
    [message] = ingress.drain(Queue.CALLS)
    envelope = message["body"]
    assert envelope["tenant_id"] == "beta"
    assert envelope["type"] == "room_finished"
    assert envelope["provider_event_id"] == data["id"]
    assert datetime.fromisoformat(envelope["occurred_at"]).timestamp() == int(data["createdAt"])


def test_livekit_body_that_is_not_a_webhook_event_is_422(ingress: Harness) -> None:
    # Given an authentic body that protobuf cannot read as a WebhookEvent
    body = json.dumps({"event": "room_started", "id": "EV_1", "createdAt": "soon"}).encode()
    answer = ingress.send(_livekit_req(body, livekit_token(body)))
    assert answer.status == 422
    assert ingress.total_messages() == 0


# -- Bling / Asaas freshness -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("case", "age", "status"),
    [
        # Bling retries a refused delivery for days: a week is accepted, older is not
        (BLING, timedelta(days=2), 200),
        (BLING, timedelta(days=6, hours=23), 200),
        (BLING, timedelta(days=8), 401),
        # Asaas keeps events 14 days and replays them when a paused queue resumes
        (ASAAS, timedelta(days=8), 200),
        (ASAAS, timedelta(days=10), 200),
        (ASAAS, timedelta(days=14), 200),
        (ASAAS, timedelta(days=16), 401),
        # from the future, past the clock-skew tolerance
        (BLING, timedelta(minutes=-30), 401),
        (ASAAS, timedelta(minutes=-30), 401),
    ],
    ids=lambda v: str(v) if not hasattr(v, "provider") else v.provider,
)
def test_body_dates_follow_each_providers_replay_window(
    ingress: Harness, case, age: timedelta, status: int
) -> None:
    # Given an authentic delivery dated ``age`` ago
    data = case.payload("acme")
    field = "date" if case is BLING else "dateCreated"
    data[field] = _brt(datetime.now(UTC) - age)

    # When it arrives, then it is accepted only inside the provider's window
    assert ingress.send(ingress.request(case, data=data)).status == status
    assert ingress.total_messages() == (1 if status == 200 else 0)


def test_bling_dates_with_an_offset_are_read_as_such(ingress: Harness) -> None:
    data = BLING.payload("acme")
    data["date"] = datetime.now(UTC).isoformat()
    assert ingress.send(ingress.request(BLING, data=data)).status == 200


def test_bling_malformed_signature_header_is_401(ingress: Harness) -> None:
    req = ingress.request(BLING)
    req.headers["X-Bling-Signature-256"] = "sha256=" + "z" * 64
    assert ingress.send(req).status == 401
    req.headers["X-Bling-Signature-256"] = bling_signature(req.body, "x").removeprefix("sha256=")
    assert ingress.send(req).status == 401


def test_bling_message_is_fifo_grouped_by_tenant_and_deduplicated_by_key(
    ingress: Harness,
) -> None:
    data = BLING.payload("beta")
    assert ingress.send(ingress.request(BLING, "beta", data)).status == 200
    [message] = ingress.drain(Queue.CATALOG)
    assert message["system"]["MessageGroupId"] == "beta"
    key = f"webhook#beta#bling#{data['eventId']}"
    assert message["system"]["MessageDeduplicationId"] == hashlib.sha256(key.encode()).hexdigest()


# -- Standard Webhooks -------------------------------------------------------------------------


def _custom_req(harness: Harness, data: dict, **kwargs) -> Req:
    body = json.dumps(data).encode()
    secret = kwargs.pop("secret", None) or harness.secret(CUSTOM)
    headers = {"Content-Type": "application/json"} | standard_headers(body, secret, **kwargs)
    return Req("/webhooks/custom/acme", {"tenant_id": "acme"}, headers, body)


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_custom_timestamp_outside_five_minutes_is_401(ingress: Harness, skew) -> None:
    data = {"type": "order.created", "data": {"n": 1}}
    req = _custom_req(ingress, data, at=datetime.now(UTC) + skew)
    assert ingress.send(req).status == 401
    assert ingress.total_messages() == 0


def test_custom_sender_mid_rotation_with_two_signatures_is_accepted(ingress: Harness) -> None:
    # Given a sender that signs with a key we do not know and with the tenant's key
    data = {"type": "order.created", "data": {"n": 2}}
    other = "whsec_" + base64.b64encode(b"o" * 24).decode()
    req = _custom_req(ingress, data, secret=[other, ingress.secret(CUSTOM)])
    assert ingress.send(req).status == 200


@pytest.mark.parametrize(
    ("event_type", "queue"),
    [
        ("catalog.item_changed", Queue.CATALOG),
        ("stock.adjusted", Queue.CATALOG),
        ("order.created", Queue.CATALOG),
        ("payment.settled", Queue.PAYMENTS),
        ("message.received", Queue.MESSAGING),
    ],
)
def test_custom_events_are_routed_by_type_prefix(ingress: Harness, event_type, queue) -> None:
    data = {"type": event_type, "data": {"at": time.time()}}
    assert ingress.send(_custom_req(ingress, data)).status == 200
    assert len(ingress.drain(queue)) == 1
    assert ingress.total_messages() == 0


def test_custom_unroutable_type_is_422_with_the_prefixes(ingress: Harness) -> None:
    answer = ingress.send(_custom_req(ingress, {"type": "invoice.paid", "data": {}}))
    assert answer.status == 422
    assert "payment." in answer.body["error"]["message"]


# -- WhatsApp gateways -------------------------------------------------------------------------


@pytest.mark.parametrize("case", [ZAPI, EVOLUTION], ids=["zapi", "evolution"])
def test_messages_from_the_restaurants_phone_reach_the_conversation(ingress: Harness, case) -> None:
    # Given a message the restaurant's own phone sent (fromMe): our echo or a person typing
    data = case.payload("acme", from_me=True)
    # When the gateway delivers it
    answer = ingress.send(ingress.request(case, data=data))
    # Then it is enqueued: only the conversation handler, which recorded what it sent, can
    # tell our echo (ignored) from a person's takeover (pauses the bot)
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    assert len(ingress.drain(Queue.MESSAGING)) == 1


@pytest.mark.parametrize("case", [ZAPI, EVOLUTION], ids=["zapi", "evolution"])
def test_each_whatsapp_conversation_is_its_own_fifo_group(ingress: Harness, case) -> None:
    # Given messages from two customers of one tenant
    first = case.payload("acme")
    second = case.payload("acme")
    if case is ZAPI:
        second["phone"] = "5511977770000"
    else:
        second["data"]["key"]["remoteJid"] = "5511977770000@s.whatsapp.net"
    # When both are delivered
    for data in (first, second):
        assert ingress.send(ingress.request(case, data=data)).status == 200
    # Then each conversation is a message group of its own (in order within it; the other
    # customer is never held behind it), both under the tenant
    groups = sorted(m["system"]["MessageGroupId"] for m in ingress.drain(Queue.MESSAGING))
    assert len(set(groups)) == 2
    assert all(g.startswith("acme#") for g in groups)
    assert any("5511977770000" in g for g in groups)


def test_zapi_status_callbacks_are_ignored(ingress: Harness) -> None:
    data = {"type": "MessageStatusCallback", "status": "READ", "ids": ["X"], "momment": 1}
    assert ingress.send(ingress.request(ZAPI, data=data)).body == {"status": "ignored"}


def test_zapi_token_may_come_in_the_query_string(ingress: Harness) -> None:
    req = ingress.request(ZAPI)
    token = req.headers.pop("Client-Token")
    req.query["token"] = token
    assert ingress.send(req).status == 200
    assert len(ingress.drain(Queue.MESSAGING)) == 1


def test_evolution_apikey_in_header_works_and_never_reaches_the_queue(ingress: Harness) -> None:
    # Given one delivery with the key in the body and one with it in the header
    in_body = ingress.request(EVOLUTION)
    in_header = ingress.request(EVOLUTION, data=json.dumps(EVOLUTION.payload("acme")).encode())

    # When both arrive, then both are accepted and no envelope carries the key
    assert ingress.send(in_body).status == 200
    assert ingress.send(in_header).status == 200
    messages = ingress.drain(Queue.MESSAGING)
    assert len(messages) == 2
    assert all("apikey" not in m["body"]["payload"] for m in messages)


def test_evolution_other_events_are_ignored(ingress: Harness) -> None:
    data = {"event": "connection.update", "instance": "acme-wa", "data": {"state": "open"}}
    assert ingress.send(ingress.request(EVOLUTION, data=data)).body == {"status": "ignored"}


def test_evolution_unreadable_body_without_header_key_is_401_not_400(ingress: Harness) -> None:
    req = Req(
        "/webhooks/evolution/acme",
        {"tenant_id": "acme"},
        {"Content-Type": "application/json"},
        b"{nope",
    )
    assert ingress.send(req).status == 401


def test_pluggto_notifications_are_each_a_reread_trigger(ingress: Harness) -> None:
    data = PLUGGTO.payload("acme")
    assert ingress.send(ingress.request(PLUGGTO, data=data)).status == 200
    [message] = ingress.drain(Queue.CATALOG)
    assert message["body"]["type"] == "products.updated"
    assert message["body"]["provider_event_id"].startswith(f"products:{data['id']}:updated:")
