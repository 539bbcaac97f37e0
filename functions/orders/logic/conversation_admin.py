"""The admin's view of a WhatsApp conversation, and pausing/resuming the bot in it."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from atende_shared.errors import ValidationFailed
from atende_shared.models.common import utc_now
from atende_shared.models.tenant import Tenant
from functions.orders.logic.chat_ports import ConversationStore
from functions.orders.models.whatsapp import ConversationView, Pause, PauseRequest

_CUSTOMER = re.compile(r"^[0-9A-Za-z@._-]{6,128}$")


def customer_key(raw: str) -> str:
    """A conversation key as the admin typed it: a phone (``+55 11 ...`` → digits) or a chat
    id (``...@lid``, ``...@g.us``)."""
    value = raw.strip()
    if "@" not in value and not value.endswith("-group"):
        value = re.sub(r"[\s()+.-]", "", value)
    if not _CUSTOMER.fullmatch(value):
        raise ValidationFailed(f"{raw!r} is not a phone number or WhatsApp chat id")
    return value


def view(
    tenant: Tenant, customer: str, *, store: ConversationStore, now: datetime | None = None
) -> ConversationView:
    moment = now or utc_now()
    session = store.get_session(tenant.tenant_id, customer)
    live = session is not None and not session.closed and session.expires_at > moment
    pause = store.get_pause(tenant.tenant_id, customer)
    paused = pause is not None and pause.paused_until > moment
    cart = session.state.get("cart", []) if session else []
    order = session.state.get("order") if session else None
    return ConversationView(
        tenant_id=tenant.tenant_id,
        customer=customer,
        active_session=live,
        conversation_id=session.conversation_id if session else None,
        turns=session.turns if session else 0,
        cart_items=sum(int(line.get("quantity", 0)) for line in cart if isinstance(line, dict)),
        order_id=order.get("order_id") if isinstance(order, dict) else None,
        paused=paused,
        paused_until=pause.paused_until if paused and pause else None,
        pause_reason=pause.reason if paused and pause else None,
    )


def pause(
    tenant: Tenant,
    customer: str,
    request: PauseRequest,
    *,
    store: ConversationStore,
    now: datetime | None = None,
) -> ConversationView:
    moment = now or utc_now()
    hours = request.hours or tenant.whatsapp.human_pause_hours
    store.put_pause(
        Pause(
            tenant_id=tenant.tenant_id,
            customer=customer,
            paused_until=moment + timedelta(hours=hours),
            reason="admin",
            paused_at=moment,
        )
    )
    return view(tenant, customer, store=store, now=moment)


def resume(
    tenant: Tenant, customer: str, *, store: ConversationStore, now: datetime | None = None
) -> ConversationView:
    """Lift any pause (a person's reply, a hand-off or an admin's); a no-op when none."""
    store.delete_pause(tenant.tenant_id, customer)
    return view(tenant, customer, store=store, now=now)
