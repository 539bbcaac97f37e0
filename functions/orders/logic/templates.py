"""The WhatsApp texts, in the tenant's (or the customer's) language: pt-BR and en."""

from __future__ import annotations

from typing import Literal

from atende_shared.events import OrderStatus
from functions.orders.models.order import Order

Language = Literal["pt-BR", "en"]

TEMPLATES: dict[Language, dict[str, str]] = {
    "pt-BR": {
        "restaurant_new": (
            "Novo pedido #{number} ({channel})\n{lines}\nTotal: {total}\n{fulfilment}\n"
            "Cliente: {customer}\nPagamento: {payment}{notes}"
        ),
        "restaurant_reminder": (
            "Pedido #{number} aguardando aceite há {minutes} min. Total: {total}. "
            "Aceite ou recuse no painel."
        ),
        "customer_received": (
            "Pedido #{number} recebido!\n{lines}\nTotal: {total}\n{fulfilment}\n"
            "Previsão: cerca de {minutes} min.\nResponda PARAR para não receber mais avisos."
        ),
        "customer_accepted": "Seu pedido #{number} foi aceito e já vai para a cozinha.",
        "customer_out_for_delivery": "Seu pedido #{number} saiu para entrega!",
        "customer_ready": "Seu pedido #{number} está pronto para retirada.",
        "customer_refused": "Sentimos muito: o pedido #{number} não pôde ser aceito.{reason}",
        "customer_cancelled": "O pedido #{number} foi cancelado.{reason}",
        "delivery": "Entrega: {address}",
        "pickup": "Retirada no balcão",
        "reason": " Motivo: {reason}",
        "notes": "\nObs.: {notes}",
        "unknown": "não informado",
    },
    "en": {
        "restaurant_new": (
            "New order #{number} ({channel})\n{lines}\nTotal: {total}\n{fulfilment}\n"
            "Customer: {customer}\nPayment: {payment}{notes}"
        ),
        "restaurant_reminder": (
            "Order #{number} has been waiting {minutes} min to be accepted. Total: {total}. "
            "Accept or refuse it on the board."
        ),
        "customer_received": (
            "Order #{number} received!\n{lines}\nTotal: {total}\n{fulfilment}\n"
            "Estimated time: about {minutes} min.\nReply STOP to get no more updates."
        ),
        "customer_accepted": "Your order #{number} was accepted and is going to the kitchen.",
        "customer_out_for_delivery": "Your order #{number} is out for delivery!",
        "customer_ready": "Your order #{number} is ready for pickup.",
        "customer_refused": "Sorry: order #{number} could not be accepted.{reason}",
        "customer_cancelled": "Order #{number} was cancelled.{reason}",
        "delivery": "Delivery: {address}",
        "pickup": "Pickup at the counter",
        "reason": " Reason: {reason}",
        "notes": "\nNotes: {notes}",
        "unknown": "not given",
    },
}

#: The status changes the customer hears about (``ready`` only for pickup orders).
CUSTOMER_STATUSES: frozenset[OrderStatus] = frozenset(
    {"received", "accepted", "out_for_delivery", "ready", "refused", "cancelled"}
)


def language_of(order: Order, tenant_languages: list[str]) -> Language:
    chosen = order.language or (tenant_languages[0] if tenant_languages else "pt-BR")
    return "en" if chosen.lower().startswith("en") else "pt-BR"


def money(cents: int, lang: Language) -> str:
    whole, part = divmod(cents, 100)
    if lang == "en":
        return f"R$ {whole:,}.{part:02d}"
    return f"R$ {whole:,}".replace(",", ".") + f",{part:02d}"


def _lines(order: Order, lang: Language) -> str:
    rows = []
    for line in order.lines:
        extras = [f.name for f in line.flavours] + [m.name for m in line.modifiers]
        detail = f" ({', '.join(extras)})" if extras else ""
        rows.append(f"{line.quantity}x {line.name}{detail} - {money(line.line_total_cents, lang)}")
    return "\n".join(rows)


def _fulfilment(order: Order, lang: Language) -> str:
    t = TEMPLATES[lang]
    if order.fulfilment == "delivery":
        address = (order.address.raw if order.address else "") or t["unknown"]
        return t["delivery"].format(address=address)
    return t["pickup"]


def restaurant_new(order: Order, lang: Language) -> str:
    t = TEMPLATES[lang]
    customer = " ".join(p for p in (order.customer.name, order.customer.phone) if p)
    return t["restaurant_new"].format(
        number=order.order_number,
        channel=order.channel,
        lines=_lines(order, lang),
        total=money(order.total_cents, lang),
        fulfilment=_fulfilment(order, lang),
        customer=customer or t["unknown"],
        payment=order.payment.method if order.payment else t["unknown"],
        notes=t["notes"].format(notes=order.notes) if order.notes else "",
    )


def restaurant_reminder(order: Order, lang: Language, minutes: int) -> str:
    return TEMPLATES[lang]["restaurant_reminder"].format(
        number=order.order_number, minutes=minutes, total=money(order.total_cents, lang)
    )


def customer_message(
    order: Order, status: OrderStatus, lang: Language, *, minutes: int, reason: str | None
) -> str | None:
    """The customer's text for ``status``, or None when that change is not theirs to hear."""
    if status not in CUSTOMER_STATUSES or (status == "ready" and order.fulfilment != "pickup"):
        return None
    t = TEMPLATES[lang]
    return t[f"customer_{status}"].format(
        number=order.order_number,
        lines=_lines(order, lang),
        total=money(order.total_cents, lang),
        fulfilment=_fulfilment(order, lang),
        minutes=minutes,
        reason=t["reason"].format(reason=reason) if reason else "",
    )
