"""Deliveries shaped exactly as the providers document them, through the real ingress
handler on moto (and, for WhatsApp, on into the ``messaging`` consumer's reading).

Each test names its source. Each failed on the code before this change (see the commit
message of the change that added it): authentic replays refused, ignorable events
refused with 4xx, documented shapes misread.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.models.livekit import LiveKitEvent
from atende_shared.models.whatsapp_inbound import inbound_message
from atende_shared.resources import Queue
from functions.orders.logic.inbound import parse_inbound
from tests.webhooks.cases import CASES, Req, livekit_token
from tests.webhooks.conftest import Harness, api_event, invoke

LIVEKIT, BLING, ASAAS, PLUGGTO, ZAPI, EVOLUTION, CUSTOM = CASES


def _brt(moment: datetime) -> str:
    return (moment - timedelta(hours=3)).strftime("%Y-%m-%d %H:%M:%S")


# -- Asaas ----------------------------------------------------------------------------------
#
# Source: Asaas webhook docs (docs.asaas.com, "Webhooks" / "Payment events"): the body is
#   {"id": "evt_05b708f961d739ea7eba7e4db318f621&368604920", "event": "PAYMENT_RECEIVED",
#    "dateCreated": "2024-06-12 16:45:03", "payment": {"object": "payment",
#    "id": "pay_080225913252", "customer": "cus_G7Dvo4iphUNk", "value": 100,
#    "netValue": 94.51, "billingType": "CREDIT_CARD", "status": "RECEIVED", ...}}
# and: "Asaas keeps the events for 14 days"; "after 15 consecutive failures the queue is
# interrupted" and, once resumed, the stored events are sent again in order.


def asaas_documented(tenant: str, *, event: str = "PAYMENT_RECEIVED", age: timedelta) -> dict:
    return {
        "id": f"evt_{uuid.uuid4().hex}&368604920",
        "event": event,
        "dateCreated": _brt(datetime.now(UTC) - age),
        "payment": {
            "object": "payment",
            "id": f"pay_{uuid.uuid4().hex[:12]}",
            "dateCreated": "2021-01-01",
            "customer": "cus_G7Dvo4iphUNk",
            "dueDate": "2021-01-01",
            "value": 100,
            "netValue": 94.51,
            "description": "Pedido 056984",
            "billingType": "CREDIT_CARD",
            "status": "RECEIVED",
            "externalReference": None,
            "deleted": False,
        },
    }


@pytest.mark.parametrize("days", [8, 10, 13])
def test_an_asaas_queue_resumed_days_later_is_not_refused_again(
    ingress: Harness, days: int
) -> None:
    # Given an authentic Asaas event replayed ``days`` after it happened (a paused queue
    # resumed: Asaas keeps events 14 days)
    data = asaas_documented("acme", age=timedelta(days=days))
    # When it arrives, then it is accepted (it was 401 past 7 days, and the resumed queue
    # would have been paused again and the payments lost)
    answer = ingress.send(ingress.request(ASAAS, data=data))
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    # And its replay inside the window is a known duplicate: dedupe, not the clock
    again = ingress.send(ingress.request(ASAAS, data=data))
    assert again.body == {"status": "duplicate"}
    assert len(ingress.drain(Queue.PAYMENTS)) == 1


@pytest.mark.parametrize("event", ["PAYMENT_CREATED", "PAYMENT_UPDATED", "PAYMENT_OVERDUE"])
def test_asaas_events_that_move_no_balance_are_acknowledged_and_ignored(
    ingress: Harness, event: str
) -> None:
    data = asaas_documented("acme", event=event, age=timedelta(0))
    answer = ingress.send(ingress.request(ASAAS, data=data))
    assert (answer.status, answer.body) == (200, {"status": "ignored"})
    assert ingress.total_messages() == 0


@pytest.mark.parametrize("value", [None, "100.00", "cem", True, -5])
def test_an_asaas_payment_that_can_never_be_credited_is_refused_at_the_door(
    ingress: Harness, value: Any
) -> None:
    # Given an authentic PAYMENT_RECEIVED whose value is null or not a number
    data = asaas_documented("acme", age=timedelta(0))
    data["payment"]["value"] = value
    # When it arrives, then 422 names the field (the sender can fix it) and nothing is
    # enqueued (it was 200 and then a DLQ entry nobody saw)
    answer = ingress.send(ingress.request(ASAAS, data=data))
    assert answer.status == 422
    fields = [f["field"] for f in answer.body["error"]["details"]["fields"]]
    assert "payment.value" in fields
    assert ingress.total_messages() == 0


# -- Bling ----------------------------------------------------------------------------------
#
# Source: developer.bling.com.br/webhooks: body {eventId, date, version, event, companyId,
# data}; event = "<resource>.<action>", with resources beyond catalog and stock
# (invoice / "nota fiscal", consumer_invoice / "nota fiscal de consumidor",
# product_supplier / "produto fornecedor", ...); a delivery not answered 2xx is retried.


@pytest.mark.parametrize(
    "event", ["invoice.created", "consumer_invoice.created", "product_supplier.updated"]
)
def test_bling_events_we_do_not_use_are_200_ignored_never_4xx(ingress: Harness, event: str) -> None:
    data = {
        "eventId": str(uuid.uuid4()),
        "date": _brt(datetime.now(UTC)),
        "version": "v1",
        "event": event,
        "companyId": "d4475854366a36c86a37e792f9634a51",
        "data": {"id": 12345678},
    }
    answer = ingress.send(ingress.request(BLING, data=data))
    assert (answer.status, answer.body) == (200, {"status": "ignored"})
    assert ingress.total_messages() == 0


# -- Z-API ----------------------------------------------------------------------------------
#
# Source: developer.z-api.io/en/webhooks/on-message-received (+ "-examples"): attributes
# isGroup, phone ("Phone number or group that sent the message"), participantPhone ("Phone
# number of the group member who sent the message"), fromMe, messageId, momment, senderName,
# text.message; type: the table says "ReceivedCallBack", the examples "ReceivedCallback".


def zapi_documented(**changes: Any) -> dict[str, Any]:
    return {
        "isStatusReply": False,
        "senderLid": "81896604192873@lid",
        "connectedPhone": "554499999999",
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": "A20DA9C0183A2D35A260F53F5D2B9244",
        "messageId": uuid.uuid4().hex.upper(),
        "phone": "5544999999999",
        "fromMe": False,
        "momment": int(datetime.now(UTC).timestamp() * 1000),
        "status": "RECEIVED",
        "chatName": "name",
        "senderPhoto": "https://",
        "senderName": "name",
        "participantPhone": None,
        "participantLid": None,
        "photo": "https://",
        "broadcast": False,
        "type": "ReceivedCallback",
        "text": {"message": "test"},
    } | changes


def consumed(ingress: Harness) -> tuple[str, list[dict[str, Any]]]:
    """What the messaging consumer (the WhatsApp conversation) reads of the one enqueued
    envelope: a message, or our own echo."""
    [message] = ingress.drain(Queue.MESSAGING)
    read = parse_inbound(InboundEvent.model_validate(message["body"]))
    assert read is not None, message["body"]
    row = {"phone": read.sender, "chat": read.chat_id, "is_group": read.is_group, "text": read.text}
    return ("ignored_own" if read.from_me else "recorded"), [row]


def test_zapi_both_spellings_of_the_message_type_are_messages(ingress: Harness) -> None:
    for spelling in ("ReceivedCallback", "ReceivedCallBack"):
        answer = ingress.send(ingress.request(ZAPI, data=zapi_documented(type=spelling)))
        assert (answer.status, answer.body) == (200, {"status": "accepted"}), spelling
        outcome, rows = consumed(ingress)
        assert (outcome, rows[0]["text"]) == ("recorded", "test")


def test_zapi_group_message_keeps_who_wrote_it(ingress: Harness) -> None:
    data = zapi_documented(
        isGroup=True,
        phone="120363019502650977-group",
        participantPhone="5544988887777",
        text={"message": "uma calabresa"},
    )
    assert ingress.send(ingress.request(ZAPI, data=data)).status == 200
    outcome, [row] = consumed(ingress)
    assert outcome == "recorded"
    assert (row["phone"], row["chat"], row["is_group"]) == (
        "5544988887777",
        "120363019502650977-group",
        True,
    )


def test_zapi_from_me_as_the_string_false_is_a_customer_message(ingress: Harness) -> None:
    assert ingress.send(ingress.request(ZAPI, data=zapi_documented(fromMe="false"))).status == 200
    outcome, rows = consumed(ingress)
    assert outcome == "recorded"  # it was dropped as our own echo
    assert rows[0]["text"] == "test"


# -- Evolution API v2 -------------------------------------------------------------------------
#
# Source: doc.evolution-api.com/v2 "Webhooks": per-instance config {url, webhook_by_events,
# events: ["MESSAGES_UPSERT", ...]}; with webhook_by_events each event goes to the URL plus
# the event in kebab case ("https://your-app.com/webhook/messages-upsert"). The v2 emitter
# sends {event, instance, data, destination, date_time, sender, server_url, apikey}, with the
# instance key in the ``apikey`` header and ``"apikey": null`` in the body unless exposed.
# data.message.extendedTextMessage.text carries replies and texts with a link preview.


def evolution_documented(text_block: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": "messages.upsert",
        "instance": "acme-wa",
        "data": {
            "key": {
                "remoteJid": "5511999990000@s.whatsapp.net",
                "fromMe": False,
                "id": uuid.uuid4().hex.upper(),
            },
            "pushName": "Cliente",
            "message": text_block,
            "messageType": "extendedTextMessage",
            "messageTimestamp": int(datetime.now(UTC).timestamp()),
            "instanceId": "b1f2c3",
            "source": "android",
        },
        "destination": "https://atende.example/webhooks/evolution/acme",
        "date_time": datetime.now(UTC).isoformat(),
        "sender": "5511888880000@s.whatsapp.net",
        "server_url": "https://evolution.example",
        "apikey": None,
    }


def evolution_v2_request(ingress: Harness, data: dict[str, Any], *, suffix: str = "") -> Req:
    headers = {"Content-Type": "application/json", "apikey": ingress.secret(EVOLUTION)}
    path = f"/webhooks/evolution/acme{suffix}"
    params = {"tenant_id": "acme"} | ({"event_slug": suffix[1:]} if suffix else {})
    return Req(path, params, headers, json.dumps(data).encode())


def test_evolution_v2_header_key_with_a_null_body_key_is_accepted(ingress: Harness) -> None:
    data = evolution_documented({"conversation": "oi"})
    answer = invoke(api_event(evolution_v2_request(ingress, data)))
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    outcome, [row] = consumed(ingress)
    assert (outcome, row["text"], row["phone"]) == ("recorded", "oi", "5511999990000")


def test_evolution_webhook_by_events_url_is_served(ingress: Harness) -> None:
    data = evolution_documented({"conversation": "oi"}) | {"event": "MESSAGES_UPSERT"}
    answer = invoke(api_event(evolution_v2_request(ingress, data, suffix="/messages-upsert")))
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    assert len(ingress.drain(Queue.MESSAGING)) == 1


def test_evolution_extended_text_message_keeps_its_text(ingress: Harness) -> None:
    data = evolution_documented(
        {"extendedTextMessage": {"text": "quero a pizza do link https://cardapio.example"}}
    )
    assert invoke(api_event(evolution_v2_request(ingress, data))).status == 200
    _, [row] = consumed(ingress)
    assert row["text"] == "quero a pizza do link https://cardapio.example"


# -- LiveKit batched -------------------------------------------------------------------------
#
# Source: the observation of a batched delivery ({"batched": true, "events": [...]}).
# livekit-server (pkg/service/wire.go: webhook.NewDefaultNotifier) and livekit/protocol
# (webhook/resource_url_notifier.go, ``send``: one ``protojson.Marshal(event)`` per POST,
# signed with ``auth.NewAccessToken(...).SetValidFor(5 * time.Minute).SetSha256(b64)``)
# send one event per POST; the batch is supported with the same signature over its body.


def test_livekit_batched_delivery_enqueues_each_event_once(ingress: Harness) -> None:
    room = f"atd_acme_call-{uuid.uuid4().hex[:6]}"
    now = str(int(datetime.now(UTC).timestamp()))
    events = [
        {"event": "room_started", "id": f"EV_{uuid.uuid4().hex[:12]}", "createdAt": now,
         "room": {"sid": "RM_1", "name": room}},
        {"event": "participant_joined", "id": f"EV_{uuid.uuid4().hex[:12]}", "createdAt": now,
         "room": {"sid": "RM_1", "name": room},
         "participant": {"sid": "PA_1", "identity": "sip_+5511999990000", "kind": "SIP",
                         "attributes": {"sip.callID": "SCL_9"}}},
        {"event": "room_started", "id": f"EV_{uuid.uuid4().hex[:12]}", "createdAt": now,
         "room": {"sid": "RM_2", "name": "someone-elses-room"}},
    ]  # fmt: skip
    body = json.dumps({"batched": True, "events": events}).encode()
    headers = {"Content-Type": "application/webhook+json", "Authorization": livekit_token(body)}
    req = Req("/webhooks/livekit", {}, headers, body)

    answer = ingress.send(req)
    assert (answer.status, answer.body) == (200, {"status": "accepted"})
    messages = ingress.drain(Queue.CALLS)
    assert sorted(m["body"]["provider_event_id"] for m in messages) == sorted(
        e["id"] for e in events[:2]
    )
    joined = next(m["body"] for m in messages if m["body"]["type"] == "participant_joined")
    assert LiveKitEvent.model_validate(joined["payload"]).participant.is_sip  # type: ignore[union-attr]

    # The same batch redelivered: every event is a known duplicate, nothing enqueued
    req.headers["Authorization"] = livekit_token(body)
    assert ingress.send(req).body == {"status": "duplicate"}
    assert ingress.total_messages() == 0


def test_inbound_message_reads_a_messaging_envelope() -> None:
    # The shared reading the messaging consumers use (a string fromMe "true" is an echo)
    event = InboundEvent(
        tenant_id="acme",
        provider=Provider.ZAPI,
        provider_event_id="m1",
        type="ReceivedCallBack",
        occurred_at=datetime.now(UTC),
        correlation_id="c",
        payload=zapi_documented(fromMe="true", messageId="m1"),
    )
    message = inbound_message(event)
    assert message is not None
    assert (message.from_me, message.sender_phone, message.text) == (True, "5544999999999", "test")
