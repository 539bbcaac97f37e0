"""Fakes and builders for the WhatsApp conversation logic: an in-memory conversation store,
a recording gateway, a publisher, a controllable clock, and gateway delivery payloads."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from atende_local.seed import demo_agent_config, demo_menu, demo_tenant
from atende_shared.events import DomainEvent, OrderPlaced
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.whatsapp import OutboundText, SendResult, WhatsAppSendError
from atende_shared.whatsapp.sent import MemorySentLog, RecordingSender
from functions.orders.logic.chat_ports import StaleSession
from functions.orders.logic.conversation import ConversationDeps
from functions.orders.models.whatsapp import Pause, Session

CUSTOMER = "5511988887777"


class MemoryConversations:
    def __init__(self) -> None:
        self.sessions: dict[tuple[str, str], Session] = {}
        self.pauses: dict[tuple[str, str], Pause] = {}
        self.counters: dict[tuple[str, str], int] = {}
        self.lids: dict[tuple[str, str], str] = {}

    def get_session(self, tenant_id: str, customer: str) -> Session | None:
        return self.sessions.get((tenant_id, customer))

    def save_session(self, session: Session, *, expected_version: int | None) -> None:
        current = self.sessions.get((session.tenant_id, session.customer))
        if (current.version if current else None) != expected_version:
            raise StaleSession("moved")
        self.sessions[(session.tenant_id, session.customer)] = session

    def get_pause(self, tenant_id: str, customer: str) -> Pause | None:
        return self.pauses.get((tenant_id, customer))

    def put_pause(self, pause: Pause) -> None:
        self.pauses[(pause.tenant_id, pause.customer)] = pause

    def delete_pause(self, tenant_id: str, customer: str) -> None:
        self.pauses.pop((tenant_id, customer), None)

    def _count(self, key: tuple[str, str]) -> int:
        self.counters[key] = self.counters.get(key, 0) + 1
        return self.counters[key]

    def count_message(self, tenant_id: str, customer: str, minute: str) -> int:
        return self._count((tenant_id, f"rate#{customer}#{minute}"))

    def count_llm_turn(self, tenant_id: str, day: str) -> int:
        return self._count((tenant_id, f"llm#{day}"))

    def remember_lid(self, tenant_id: str, lid: str, phone: str) -> None:
        self.lids[(tenant_id, lid)] = phone

    def phone_for_lid(self, tenant_id: str, lid: str) -> str | None:
        return self.lids.get((tenant_id, lid))


@dataclass
class Tenants:
    tenant: Tenant = field(default_factory=demo_tenant)
    config: AgentConfig = field(default_factory=demo_agent_config)
    menu: Menu = field(default_factory=demo_menu)

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self.tenant

    def get_agent_config(self, tenant_id: str) -> AgentConfig:
        return self.config

    def get_menu(self, tenant_id: str) -> Menu:
        return self.menu


@dataclass
class Gateway:
    """Accepts sends (or fails the next ones) and records them with their gateway."""

    sent: list[tuple[str, OutboundText]] = field(default_factory=list)
    failures: list[WhatsAppSendError] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, gateway: str, message: OutboundText) -> SendResult:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((gateway, message))
        return SendResult(gateway=gateway, message_id=f"OUT{next(self._ids)}")  # type: ignore[arg-type]

    def texts(self, to: str | None = None) -> list[str]:
        return [m.text for _, m in self.sent if to is None or m.to == to]


class _GatewaySender:
    def __init__(self, gateway: Gateway, name: str) -> None:
        self._gateway, self._name = gateway, name

    def send_text(self, message: OutboundText) -> SendResult:
        return self._gateway.send(self._name, message)


@dataclass
class Publisher:
    events: list[DomainEvent] = field(default_factory=list)

    def publish(self, events: list[DomainEvent]) -> None:  # type: ignore[override]
        self.events.extend(events)

    @property
    def orders(self) -> list[OrderPlaced]:
        return [e for e in self.events if isinstance(e, OrderPlaced)]


@dataclass
class Clock:
    moment: datetime = field(default_factory=lambda: datetime(2026, 11, 21, 23, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class MemoryOptOuts:
    def __init__(self) -> None:
        self.phones: set[tuple[str, str]] = set()

    def put_opt_out(self, tenant_id: str, phone: str, *, at: datetime) -> None:
        self.phones.add((tenant_id, phone))

    def remove_opt_out(self, tenant_id: str, phone: str) -> None:
        self.phones.discard((tenant_id, phone))

    def is_opted_out(self, tenant_id: str, phone: str) -> bool:
        return (tenant_id, phone) in self.phones


@dataclass
class World:
    store: MemoryConversations = field(default_factory=MemoryConversations)
    tenants: Tenants = field(default_factory=Tenants)
    gateway: Gateway = field(default_factory=Gateway)
    sent_log: MemorySentLog = field(default_factory=MemorySentLog)
    publisher: Publisher = field(default_factory=Publisher)
    clock: Clock = field(default_factory=Clock)
    opt_outs: MemoryOptOuts = field(default_factory=MemoryOptOuts)
    chat: Any = None

    def deps(self) -> ConversationDeps:
        return ConversationDeps(
            store=self.store,
            tenants=self.tenants,
            sender_for=lambda tenant, name: RecordingSender(
                _GatewaySender(self.gateway, name), self.sent_log
            ),
            sent=self.sent_log,
            publisher=self.publisher,
            chat=self.chat,
            opt_outs=self.opt_outs,
            now=self.clock,
        )


def envelope(provider: Provider, payload: dict[str, Any], message_id: str) -> InboundEvent:
    return InboundEvent(
        tenant_id="demo-pizzaria",
        provider=provider,
        provider_event_id=message_id,
        type="ReceivedCallback" if provider is Provider.ZAPI else "messages.upsert",
        occurred_at=datetime(2026, 11, 21, 23, 0, tzinfo=UTC),
        correlation_id=f"corr-{message_id}"[:128],
        payload=payload,
    )


def zapi(
    text: str | None = None,
    *,
    phone: str = CUSTOMER,
    message_id: str | None = None,
    from_me: bool | str = False,
    **extra: Any,
) -> InboundEvent:
    """A Z-API ReceivedCallback as the docs show it (on-message-received.md)."""
    mid = message_id or uuid.uuid4().hex[:20].upper()
    payload: dict[str, Any] = {
        "isStatusReply": False,
        "senderLid": "81896604192873@lid",
        "connectedPhone": "551130000000",
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": "DEMOZAPIINSTANCE",
        "messageId": mid,
        "phone": phone,
        "fromMe": from_me,
        "momment": 1632228638000,
        "status": "RECEIVED",
        "chatName": "Cliente",
        "senderName": "Cliente",
        "participantPhone": None,
        "broadcast": False,
        "type": "ReceivedCallback",
    }
    if text is not None:
        payload["text"] = {"message": text}
    payload.update(extra)
    return envelope(Provider.ZAPI, payload, mid)


def evolution(
    text: str | None = None,
    *,
    jid: str = f"{CUSTOMER}@s.whatsapp.net",
    message_id: str | None = None,
    from_me: bool = False,
    version: str = "v2",
    message: dict[str, Any] | None = None,
    **key_extra: Any,
) -> InboundEvent:
    """An Evolution ``messages.upsert``. Both versions post ``{event, instance, data:
    {key, pushName, message, messageType, messageTimestamp, ...}, destination, date_time,
    sender, server_url, apikey}`` (the apikey is stripped by ingress); v1's data carries
    ``owner``, v2's ``instanceId``, ``status`` and ``source``."""
    mid = message_id or "3EB0" + uuid.uuid4().hex[:16].upper()
    body = message if message is not None else {"conversation": text}
    data: dict[str, Any] = {
        "key": {"remoteJid": jid, "fromMe": from_me, "id": mid, **key_extra},
        "pushName": "Cliente",
        "message": body,
        "messageType": next(iter(body), "conversation"),
        "messageTimestamp": 1732230000,
    }
    if version == "v2":
        data |= {"instanceId": "b1f4", "status": "DELIVERY_ACK", "source": "android"}
    else:
        data |= {"owner": "demo-pizzaria", "source": "android"}
    payload = {
        "event": "messages.upsert",
        "instance": "demo-pizzaria",
        "data": data,
        "destination": "http://atende.local/webhooks/evolution/demo-pizzaria",
        "date_time": "2026-11-21T20:00:00.000Z",
        "sender": "551130000000@s.whatsapp.net",
        "server_url": "http://evolution.local",
    }
    return envelope(Provider.EVOLUTION, payload, mid)


#: What the ordering core may still ask before it confirms (a richer core asks for the
#: neighbourhood, the payment and a name), and what the customer answers.
ANSWERS = (
    ("Qual é o bairro", "Pinheiros"),
    ("Which neighbourhood", "Pinheiros"),
    ("Como vai pagar", "pix"),
    ("How will you pay", "pix"),
    ("Em nome de quem", "Ana"),
    ("What name", "Ana"),
    ("Posso confirmar", "sim"),
    ("Shall I confirm", "yes"),
)


def answer_to(reply: str) -> str | None:
    """The customer's answer to the core's last question in ``reply`` (None: nothing asked)."""
    asked = [(reply.rfind(question), answer) for question, answer in ANSWERS if question in reply]
    return max(asked)[1] if asked else None
