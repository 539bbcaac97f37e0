"""Telling people: signed webhooks, WhatsApp messages, retries, dead letters, opt-outs,
the acceptance reminder (real DynamoDB store on moto, fake receivers and gateway)."""

from __future__ import annotations

import json

import pytest
from standardwebhooks.webhooks import Webhook

from atende_shared.dal.opt_outs import is_opt_out_request, opt_out
from atende_shared.dal.tenants import update_tenant
from atende_shared.errors import Conflict, ValidationFailed
from atende_shared.whatsapp import WhatsAppSendError
from functions.orders.logic.endpoints import check_url, register_endpoint
from functions.orders.logic.intake import place_order
from functions.orders.logic.lifecycle import change_status
from functions.orders.logic.notify import replay
from functions.orders.logic.ports import EndpointPolicy
from functions.orders.logic.reminders import run_reminders
from tests.orders.conftest import TENANT, World, placed, public_resolver


def _endpoint(world: World, **kwargs: object):
    return register_endpoint(
        world.deps,
        TENANT,
        url="https://hooks.example.com/orders",
        events=["order.placed", "order.status_changed"],
        description=None,
        **kwargs,
    )


def test_a_new_order_is_signed_to_the_endpoint_and_texted_to_restaurant_and_customer(
    world: World,
):
    # Given a registered endpoint
    endpoint = _endpoint(world)
    # When an order arrives and its announcement is fanned out and delivered
    place_order(world.deps, placed("ord-1"))
    world.fan_out_published()
    world.run_jobs()

    # Then the endpoint got one order.placed, verifiable with standardwebhooks
    assert len(world.poster.received) == 1
    _url, body, headers = world.poster.received[0]
    payload = Webhook(endpoint.secret).verify(body, headers)
    assert payload["type"] == "order.placed"
    assert payload["data"]["order"]["order_number"] == 1
    assert payload["data"]["order"]["total_cents"] == 10_480
    # And the restaurant and the customer got their WhatsApp texts with the number
    texts = {m.to: m.text for m in world.sender.sent}
    assert "Novo pedido #1" in texts["+5511999990000"]
    assert "Pedido #1 recebido" in texts["+5511988887777"]
    assert "R$ 104,80" in texts["+5511988887777"]
    # And the order's deliveries say so
    deliveries = world.store.deliveries_for_order(TENANT, "ord-1")
    assert sorted(d.status for d in deliveries) == ["delivered"] * 3


def test_customer_hears_the_changes_that_matter_in_english(world: World):
    place_order(world.deps, placed("ord-1", fulfilment="pickup", language="en"))
    for status in ("accepted", "preparing", "ready", "completed"):
        change_status(world.deps, TENANT, "ord-1", status, actor="kitchen")
    world.fan_out_published()
    world.run_jobs()
    customer = [m.text for m in world.sender.sent if m.to == "+5511988887777"]
    assert customer == [
        customer[0],
        "Your order #1 was accepted and is going to the kitchen.",
        "Your order #1 is ready for pickup.",
    ]
    assert customer[0].startswith("Order #1 received!")


def test_opt_out_and_the_tenant_switch_are_honoured(world: World):
    # Given the customer wrote PARAR
    assert is_opt_out_request(" Parar! ")
    opt_out(TENANT, "+5511988887777", store=world.deps.opt_outs)
    place_order(world.deps, placed("ord-1"))
    world.fan_out_published()
    world.run_jobs()
    # Then only the restaurant is texted, and the skip is on the order's record
    assert [m.to for m in world.sender.sent] == ["+5511999990000"]
    skipped = [
        d for d in world.store.deliveries_for_order(TENANT, "ord-1") if d.status == "skipped"
    ]
    assert [d.reason for d in skipped] == ["the customer opted out (PARAR)"]

    # Given the tenant switched customer messages off, another customer is not texted
    update_tenant(
        world.deps.tenants,
        TENANT,
        lambda t: t.model_copy(
            update={"orders": t.orders.model_copy(update={"notify_customer": False})}
        ),
    )
    place_order(world.deps, placed("ord-2", phone="+5511977776666"))
    world.fan_out_published()
    world.run_jobs()
    assert "+5511977776666" not in [m.to for m in world.sender.sent]


def test_provider_down_then_back_is_retried_with_backoff_and_delivered_once(world: World):
    # Given the gateway down (transient) when the order arrives
    world.sender.failure = WhatsAppSendError("503 from gateway", transient=True)
    order = place_order(world.deps, placed("ord-1"))
    world.fan_out_published()
    first = world.jobs.drain()
    from functions.orders.logic.notify import deliver

    for job, _ in first:
        deliver(world.deps, job)
    # Then the order is untouched and each message is queued again with a delay
    assert world.store.get_order(TENANT, "ord-1") == order.model_copy(update={"announced": True})
    retries = world.jobs.drain()
    assert {(job.attempt, delay) for job, delay in retries} == {(2, 30)}
    for job, _ in retries:
        deliver(world.deps, job)
    assert {delay for _, delay in world.jobs.queued} == {60}
    # When the gateway comes back
    world.sender.failure = None
    world.run_jobs()
    # Then each message was delivered exactly once
    assert sorted(m.to for m in world.sender.sent) == ["+5511988887777", "+5511999990000"]
    statuses = {
        d.name: (d.status, len(d.attempts))
        for d in world.store.deliveries_for_order(TENANT, "ord-1")
    }
    assert statuses == {"v1:wa-customer": ("delivered", 3), "v1:wa-restaurant": ("delivered", 3)}


def test_exhausted_retries_dead_letter_and_replay_delivers_once(world: World):
    # Given the endpoint's receiver down for longer than the retry budget (4 attempts here)
    _endpoint(world)
    world.poster.down = True
    place_order(world.deps, placed("ord-1", phone=None))
    world.fan_out_published()
    world.run_jobs()
    # Then the delivery is a dead letter, listed with its attempts
    dead = world.store.list_deliveries(TENANT, failed_only=True, limit=10, after=None).items
    assert [(d.kind, len(d.attempts), d.status) for d in dead] == [("webhook", 4, "failed")]
    # When the receiver is back and the dead letter is replayed (twice)
    world.poster.down = False
    replay(world.deps, TENANT, dead[0].delivery_id)
    with pytest.raises(Conflict):
        replay(world.deps, TENANT, dead[0].delivery_id)
    world.run_jobs()
    # Then it was delivered once and is no longer a dead letter
    assert len(world.poster.received) == 1
    assert world.store.list_deliveries(TENANT, failed_only=True, limit=10, after=None).items == []


def test_permanent_failures_dead_letter_at_once(world: World):
    world.sender.failure = WhatsAppSendError("401 bad client token", transient=False)
    place_order(world.deps, placed("ord-1"))
    world.fan_out_published()
    world.run_jobs()
    failed = world.store.list_deliveries(TENANT, failed_only=True, limit=10, after=None).items
    assert sorted((len(d.attempts), d.reason) for d in failed) == [(1, "401 bad client token")] * 2
    assert world.jobs.queued == []


@pytest.mark.parametrize(
    ("url", "policy", "problem"),
    [
        ("https://hooks.example.com/x", EndpointPolicy(), None),
        ("http://hooks.example.com/x", EndpointPolicy(), "https"),
        ("https://internal.example.com/x", EndpointPolicy(), "private"),
        ("https://metadata.example.com/x", EndpointPolicy(), "link-local"),
        ("https://169.254.169.254/latest", EndpointPolicy(allow_loopback=True), "link-local"),
        ("https://10.1.2.3/x", EndpointPolicy(allow_http=True, allow_loopback=True), "private"),
        ("https://[::1]/x", EndpointPolicy(), "loopback"),
        ("http://127.0.0.1:9/x", EndpointPolicy(allow_http=True, allow_loopback=True), None),
        ("https://localhost/x", EndpointPolicy(), "loopback"),
        ("https://nowhere.invalid/x", EndpointPolicy(), "resolve"),
        ("https://user:pw@hooks.example.com/x", EndpointPolicy(), "credentials"),
    ],
)
def test_endpoint_urls(url: str, policy: EndpointPolicy, problem: str | None):
    if problem is None:
        check_url(url, policy=policy, resolve=public_resolver)
        return
    with pytest.raises(ValidationFailed) as caught:
        check_url(url, policy=policy, resolve=public_resolver)
    assert problem in caught.value.message


def test_reminder_then_refusal_when_the_tenant_chose_refuse(world: World):
    # Given a tenant that refuses orders not accepted within 5 minutes
    update_tenant(
        world.deps.tenants,
        TENANT,
        lambda t: t.model_copy(
            update={"orders": t.orders.model_copy(update={"on_acceptance_timeout": "refuse"})}
        ),
    )
    place_order(world.deps, placed("ord-late"))
    place_order(world.deps, placed("ord-fast"))
    change_status(world.deps, TENANT, "ord-fast", "accepted", actor="kitchen")
    world.fan_out_published()
    world.run_jobs()
    world.sender.sent.clear()

    # When the window passes: the restaurant is reminded of the waiting order only
    world.clock.advance(minutes=5, seconds=1)
    report = run_reminders(world.deps)
    world.run_jobs()
    assert (report.reminded, report.refused) == (1, 0)
    assert [m.to for m in world.sender.sent] == ["+5511999990000"]
    assert "aguardando aceite" in world.sender.sent[0].text

    # When another window passes: the order is refused and the customer told
    world.clock.advance(minutes=5, seconds=1)
    assert run_reminders(world.deps).refused == 1
    world.fan_out_published()
    world.run_jobs()
    order = world.store.get_order(TENANT, "ord-late")
    assert order is not None
    assert order.status == "refused"
    assert order.history[-1].actor == "system:acceptance-timeout"
    assert "não pôde ser aceito" in world.sender.sent[-1].text
    # And nothing is left to remind
    world.clock.advance(hours=1)
    assert run_reminders(world.deps).reminded == 0


def test_webhook_body_is_the_order_json(world: World):
    endpoint = _endpoint(world)
    place_order(world.deps, placed("ord-1"))
    change_status(world.deps, TENANT, "ord-1", "accepted", actor="kitchen")
    world.fan_out_published()
    world.run_jobs()
    kinds = [json.loads(body)["type"] for _, body, _ in world.poster.received]
    assert kinds == ["order.placed", "order.status_changed"]
    ids = [h["webhook-id"] for _, _, h in world.poster.received]
    assert len(set(ids)) == 2
    assert endpoint.secret.startswith("whsec_")


def test_a_whatsapp_order_is_not_confirmed_twice_but_later_changes_are_sent(world: World):
    # Given an order placed in a WhatsApp conversation (the chat already confirmed it)
    place_order(world.deps, placed("ord-1", channel="whatsapp", conversation_id="chat-1"))
    change_status(world.deps, TENANT, "ord-1", "accepted", actor="kitchen")
    # When its announcements are fanned out and delivered
    world.fan_out_published()
    world.run_jobs()
    # Then the customer is not sent a second "received", but hears the acceptance
    customer = [m.text for m in world.sender.sent if m.to == "+5511988887777"]
    assert len(customer) == 1
    assert "#1" in customer[0]
    assert "recebido" not in customer[0]
    # And the order's record says why the confirmation was skipped
    skipped = [
        d.reason for d in world.store.deliveries_for_order(TENANT, "ord-1") if d.status == "skipped"
    ]
    assert skipped == ["confirmed in the customer's WhatsApp conversation"]
