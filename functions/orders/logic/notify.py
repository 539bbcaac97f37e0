"""Telling people: signed order webhooks and WhatsApp messages, retried, never blocking.

A status change (``OrderStatusChanged``, including the arrival as ``received``) fans out
into deliveries, one per recipient, each stored once under a stable name and then tried by
a job on the notifications queue. A failed try is recorded on the delivery and re-enqueued
with exponential backoff (SQS ``DelaySeconds``); after the last attempt, or at once for a
permanent failure, the delivery is ``failed``: the tenant's dead letters, listed and
replayed through the API. The order itself never waits for any of this.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from standardwebhooks.webhooks import Webhook

from atende_shared.errors import Conflict, NotFound, ValidationFailed
from atende_shared.events import OrderStatusChanged, parse_event
from atende_shared.models.common import utc_now
from atende_shared.models.tenant import Tenant
from atende_shared.observability import logger
from atende_shared.whatsapp import OutboundText, WhatsAppSendError
from functions.orders.logic.endpoints import check_url
from functions.orders.logic.ports import OrdersDeps
from functions.orders.logic.templates import (
    customer_message,
    language_of,
    restaurant_new,
    restaurant_reminder,
)
from functions.orders.models.notifications import (
    Delivery,
    DeliveryAttempt,
    DeliveryJob,
    WebhookEventType,
    parse_delivery_id,
)
from functions.orders.models.order import Order

RESTAURANT = "wa-restaurant"
CUSTOMER = "wa-customer"


def webhook_body(
    event_type: WebhookEventType, order: Order, *, at: datetime, extra: dict[str, Any]
) -> str:
    """The JSON every order webhook carries: ``type``, ``timestamp`` and ``data``."""
    data = {"order": order.model_dump(mode="json", exclude={"announced"}), **extra}
    return json.dumps(
        {"type": event_type, "timestamp": at.isoformat(), "data": data},
        separators=(",", ":"),
        sort_keys=True,
    )


def _minutes(order: Order, tenant: Tenant) -> int:
    if order.estimated_minutes:
        return order.estimated_minutes
    settings = tenant.orders
    return (
        settings.estimated_delivery_minutes
        if order.fulfilment == "delivery"
        else settings.estimated_pickup_minutes
    )


def plan_status_deliveries(
    deps: OrdersDeps, tenant: Tenant, order: Order, event: OrderStatusChanged
) -> list[Delivery]:
    """Who hears about this change: subscribed endpoints, the restaurant's phone for a new
    order, the customer for the changes that matter to them (unless opted out or off)."""
    now = deps.clock()
    event_type: WebhookEventType = (
        "order.placed" if event.status == "received" else "order.status_changed"
    )
    prefix = f"v{event.version}"
    common = {
        "tenant_id": order.tenant_id,
        "order_id": order.order_id,
        "created_at": now,
        "updated_at": now,
        "correlation_id": event.correlation_id,
    }
    planned: list[Delivery] = []
    body = webhook_body(
        event_type,
        order,
        at=event.occurred_at,
        extra={
            "previous_status": event.previous_status,
            "status": event.status,
            "version": event.version,
            "reason": event.reason,
            "actor": event.actor,
        },
    )
    for endpoint in deps.store.list_endpoints(order.tenant_id):
        if event_type in endpoint.events:
            planned.append(
                Delivery(
                    name=f"{prefix}:wh-{endpoint.endpoint_id}",
                    kind="webhook",
                    event_type=event_type,
                    target=endpoint.endpoint_id,
                    url=endpoint.url,
                    body=body,
                    **common,
                )
            )
    lang = language_of(order, tenant.languages)
    phone = tenant.orders.notification_phone
    if event.status == "received" and phone:
        planned.append(
            Delivery(
                name=f"{prefix}:{RESTAURANT}",
                kind="whatsapp",
                event_type=event_type,
                target=phone,
                body=restaurant_new(order, lang),
                **common,
            )
        )
    customer = order.customer.phone
    text = customer_message(
        order, event.status, lang, minutes=_minutes(order, tenant), reason=event.reason
    )
    if customer and text:
        skipped = None
        if not tenant.orders.notify_customer:
            skipped = "customer notifications are off for this tenant"
        elif event.status == "received" and order.channel == "whatsapp":
            # The WhatsApp conversation itself confirmed it (number, items, total).
            skipped = "confirmed in the customer's WhatsApp conversation"
        elif deps.opt_outs.is_opted_out(order.tenant_id, customer):
            skipped = "the customer opted out (PARAR)"
        planned.append(
            Delivery(
                name=f"{prefix}:{CUSTOMER}",
                kind="whatsapp",
                event_type=event_type,
                target=customer,
                body=text,
                status="skipped" if skipped else "pending",
                reason=skipped,
                **common,
            )
        )
    return planned


def plan_reminder_deliveries(deps: OrdersDeps, tenant: Tenant, order: Order) -> list[Delivery]:
    now = deps.clock()
    minutes = tenant.orders.acceptance_window_minutes
    common = {
        "tenant_id": order.tenant_id,
        "order_id": order.order_id,
        "created_at": now,
        "updated_at": now,
        "correlation_id": order.correlation_id,
        "event_type": "order.reminder",
    }
    planned: list[Delivery] = []
    body = webhook_body("order.reminder", order, at=now, extra={"waiting_minutes": minutes})
    for endpoint in deps.store.list_endpoints(order.tenant_id):
        if "order.reminder" in endpoint.events:
            planned.append(
                Delivery(
                    name=f"reminder:wh-{endpoint.endpoint_id}",
                    kind="webhook",
                    target=endpoint.endpoint_id,
                    url=endpoint.url,
                    body=body,
                    **common,
                )
            )
    phone = tenant.orders.notification_phone
    if phone:
        lang = language_of(order, tenant.languages)
        planned.append(
            Delivery(
                name=f"reminder:{RESTAURANT}",
                kind="whatsapp",
                target=phone,
                body=restaurant_reminder(order, lang, minutes),
                **common,
            )
        )
    return planned


def schedule(deps: OrdersDeps, planned: list[Delivery]) -> int:
    """Store each planned delivery once and enqueue its first try; a redelivered event
    re-enqueues only deliveries never tried (the job skips what is already done)."""
    enqueued = 0
    for delivery in planned:
        created = deps.store.create_delivery(delivery)
        if not created:
            stored = deps.store.get_delivery(delivery.tenant_id, delivery.order_id, delivery.name)
            if stored is None or stored.status != "pending" or stored.attempts:
                continue
        elif delivery.status != "pending":
            continue
        deps.jobs.enqueue(
            DeliveryJob(
                tenant_id=delivery.tenant_id,
                order_id=delivery.order_id,
                name=delivery.name,
                correlation_id=delivery.correlation_id,
            )
        )
        enqueued += 1
    return enqueued


def fan_out(deps: OrdersDeps, event: OrderStatusChanged) -> int:
    order = deps.store.get_order(event.tenant_id, event.order_id)
    if order is None:
        raise NotFound(f"order {event.order_id!r} not stored yet")  # fail the record: retried
    tenant = deps.tenant(event.tenant_id)
    return schedule(deps, plan_status_deliveries(deps, tenant, order, event))


def _sign(secret: str, msg_id: str, at: datetime, body: str) -> dict[str, str]:
    signature = Webhook(secret).sign(msg_id, at, body)
    return {
        "content-type": "application/json",
        "user-agent": "Atende-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def _try_webhook(deps: OrdersDeps, delivery: Delivery) -> tuple[bool, bool, int | None, str | None]:
    """``(ok, transient, status_code, error)`` of one POST."""
    endpoint = next(
        (
            e
            for e in deps.store.list_endpoints(delivery.tenant_id)
            if e.endpoint_id == delivery.target
        ),
        None,
    )
    if endpoint is None:
        return False, False, None, "endpoint deleted"
    try:
        check_url(endpoint.url, policy=deps.endpoints, resolve=deps.resolve)
    except ValidationFailed as exc:
        return False, False, None, exc.message
    # The wall clock, not the business clock: receivers check it against theirs (5 min).
    headers = _sign(endpoint.secret, delivery.delivery_id, utc_now(), delivery.body)
    try:
        status = deps.poster.post(endpoint.url, delivery.body.encode(), headers)
    except OSError as exc:
        return False, True, None, str(exc)[:500]
    if 200 <= status < 300:
        return True, False, status, None
    # 410 Gone: the receiver says it will never take it. Everything else is worth retrying.
    return False, status != 410, status, f"HTTP {status}"


def _try_whatsapp(
    deps: OrdersDeps, delivery: Delivery, tenant: Tenant
) -> tuple[bool, bool, int | None, str | None]:
    if delivery.name.endswith(CUSTOMER) and deps.opt_outs.is_opted_out(
        delivery.tenant_id, delivery.target
    ):
        return False, False, None, "opted out"
    message = OutboundText(
        tenant_id=delivery.tenant_id,
        to=delivery.target,
        text=delivery.body,
        idempotency_key=f"order:{delivery.order_id}:{delivery.name}"[:200],
        correlation_id=delivery.correlation_id,
    )
    try:
        deps.sender_for(tenant).send_text(message)
    except WhatsAppSendError as exc:
        return False, exc.transient, None, exc.reason[:500]
    return True, False, None, None


def deliver(deps: OrdersDeps, job: DeliveryJob) -> Delivery | None:
    """Try one delivery once; record the attempt; re-enqueue with backoff or dead-letter."""
    delivery = deps.store.get_delivery(job.tenant_id, job.order_id, job.name)
    if delivery is None or delivery.status != "pending":
        return delivery  # done, dead or skipped: a duplicate job changes nothing
    tenant = deps.tenant(job.tenant_id)
    if delivery.kind == "webhook":
        ok, transient, status_code, error = _try_webhook(deps, delivery)
    else:
        ok, transient, status_code, error = _try_whatsapp(deps, delivery, tenant)
    number = len(delivery.attempts) + 1
    now = deps.clock()
    attempt = DeliveryAttempt(
        attempt=number,
        at=now,
        ok=ok,
        status_code=status_code,
        error=error,
        transient=None if ok else transient,
    )
    attempts = [*delivery.attempts, attempt]
    if ok:
        status, reason = "delivered", None
    elif error == "opted out":
        status, reason = "skipped", "the customer opted out (PARAR)"
    elif transient and number < deps.retry.max_attempts:
        status, reason = "pending", error
    else:
        status, reason = "failed", error
    updated = delivery.model_copy(
        update={"status": status, "attempts": attempts, "reason": reason, "updated_at": now}
    )
    deps.store.save_delivery(updated)
    if status == "pending":
        delay = deps.retry.delay_after(number)
        deps.jobs.enqueue(job.model_copy(update={"attempt": number + 1}), delay_seconds=delay)
    log = logger.info if ok else logger.warning
    log(
        "delivery attempt",
        extra={
            "order_id": delivery.order_id,
            "delivery": delivery.name,
            "kind": delivery.kind,
            "attempt": number,
            "outcome": status,
            "error": error,
        },
    )
    return updated


def replay(deps: OrdersDeps, tenant_id: str, delivery_id: str) -> Delivery:
    """Put a dead-lettered delivery back in line (once: a second replay is a 409)."""
    parsed = parse_delivery_id(delivery_id)
    delivery = deps.store.get_delivery(tenant_id, *parsed) if parsed else None
    if delivery is None:
        raise NotFound(f"delivery {delivery_id!r} not found")
    if delivery.status != "failed":
        raise Conflict(
            f"only failed deliveries can be replayed; this one is {delivery.status}",
            details={"status": delivery.status},
        )
    revived = delivery.model_copy(
        update={
            "status": "pending",
            "reason": None,
            "replays": delivery.replays + 1,
            "updated_at": deps.clock(),
        }
    )
    deps.store.save_delivery(revived)
    deps.jobs.enqueue(
        DeliveryJob(
            tenant_id=tenant_id,
            order_id=delivery.order_id,
            name=delivery.name,
            attempt=len(delivery.attempts) + 1,
            correlation_id=delivery.correlation_id,
        )
    )
    return revived


def handle_notification_message(deps: OrdersDeps, body: dict[str, Any]) -> None:
    """One message of the notifications queue: our own delivery job, or an
    ``OrderStatusChanged`` envelope from the bus to fan out."""
    if body.get("kind") == "delivery":
        deliver(deps, DeliveryJob.model_validate(body))
        return
    event = parse_event(str(body.get("detail-type", "")), body.get("detail") or {})
    if isinstance(event, OrderStatusChanged):
        fan_out(deps, event)
    else:
        logger.warning(
            "notifications queue: event ignored", extra={"detail_type": event.detail_type}
        )
