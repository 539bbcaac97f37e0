"""Fixtures of the orders tests: the real DynamoDB store on moto, fakes for the outside
world (bus, queue, HTTP receivers, WhatsApp gateway), and event builders."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende_local.bootstrap import LocalResources
from atende_shared.dal.opt_outs import opt_out_store
from atende_shared.dal.order_numbers import order_numbers
from atende_shared.dal.tenants import tenant_store
from atende_shared.events import DomainEvent, OrderLine, OrderPlaced
from atende_shared.models.tenant import OrderSettings, Tenant
from atende_shared.whatsapp import OutboundText, SendResult, WhatsAppSendError
from functions.orders.dal.dynamo import DynamoOrderStore
from functions.orders.logic.ports import EndpointPolicy, OrdersDeps, RetryPolicy
from functions.orders.models.notifications import DeliveryJob

TENANT = "pizzaria-teste"
T0 = datetime(2026, 11, 21, 23, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class FakeBus:
    events: list[DomainEvent] = field(default_factory=list)
    down: bool = False

    def publish(self, events: Sequence[DomainEvent]) -> None:
        if self.down:
            from atende_shared.errors import DependencyUnavailable

            raise DependencyUnavailable("bus down")
        self.events.extend(events)


@dataclass
class FakeJobs:
    """The notifications queue: jobs with the delay they were sent with."""

    queued: list[tuple[DeliveryJob, int]] = field(default_factory=list)

    def enqueue(self, job: DeliveryJob, *, delay_seconds: int = 0) -> None:
        self.queued.append((job, delay_seconds))

    def drain(self) -> list[tuple[DeliveryJob, int]]:
        taken, self.queued = self.queued, []
        return taken


@dataclass
class FakePoster:
    """Receivers of order webhooks: answer ``status`` (or raise when ``down``)."""

    status: int = 200
    down: bool = False
    received: list[tuple[str, bytes, dict[str, str]]] = field(default_factory=list)

    def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if self.down:
            raise OSError("connection refused")
        self.received.append((url, body, headers))
        return self.status


@dataclass
class FakeSender:
    """A WhatsApp gateway as the ``WhatsAppSender`` contract describes it."""

    sent: list[OutboundText] = field(default_factory=list)
    failure: WhatsAppSendError | None = None

    def send_text(self, message: OutboundText) -> SendResult:
        if self.failure is not None:
            raise self.failure
        self.sent.append(message)
        return SendResult(gateway="zapi", message_id=f"m{len(self.sent)}")


def public_resolver(host: str) -> list[str]:
    table = {
        "hooks.example.com": ["93.184.216.34"],
        "internal.example.com": ["10.0.0.5"],
        "metadata.example.com": ["169.254.169.254"],
        "localhost": ["127.0.0.1"],
    }
    if host not in table:
        raise OSError("does not resolve")
    return table[host]


@dataclass
class World:
    deps: OrdersDeps
    store: Any
    bus: FakeBus
    jobs: FakeJobs
    poster: FakePoster
    sender: FakeSender
    clock: Clock

    def run_jobs(self, *, rounds: int = 20) -> int:
        """Deliver every queued job (and the retries they enqueue) now, ignoring delays."""
        from functions.orders.logic.notify import deliver

        done = 0
        for _ in range(rounds):
            batch = self.jobs.drain()
            if not batch:
                return done
            for job, _delay in batch:
                deliver(self.deps, job)
                done += 1
        return done

    def fan_out_published(self) -> None:
        """Hand every published status change to the notifications logic (the bus rule)."""
        from atende_shared.events import OrderStatusChanged
        from functions.orders.logic.notify import fan_out

        events, self.bus.events = self.bus.events, []
        for event in events:
            if isinstance(event, OrderStatusChanged):
                fan_out(self.deps, event)


def tenant(**orders: Any) -> Tenant:
    return Tenant(
        tenant_id=TENANT,
        name="Pizzaria Teste",
        orders=OrderSettings(**{"notification_phone": "+5511999990000", **orders}),
    )


@pytest.fixture(params=["memory", "dynamodb"])
def world(request: pytest.FixtureRequest) -> World:
    """Given the order store (in memory, or the real DynamoDB store on moto: every logic
    test runs on both, so the fake keeps the real store's semantics) and fakes outside."""
    if request.param == "memory":
        return _world(None)
    return _world(request.getfixturevalue("aws"))


def _world(aws: LocalResources | None) -> World:
    clock, bus, jobs, poster, sender = Clock(), FakeBus(), FakeJobs(), FakePoster(), FakeSender()
    store: Any
    numbers: Any
    tenants: Any
    opt_outs: Any
    if aws is None:
        from tests.orders.fakes import FakeOrderStore, MemoryCounter, MemoryOptOuts
        from tests.provision.fakes import MemoryTenants

        store, numbers, tenants, opt_outs = (
            FakeOrderStore(),
            MemoryCounter(),
            MemoryTenants(),
            MemoryOptOuts(),
        )
        tenants.create_tenant(tenant())
    else:
        table = aws.tables["main"]
        tenants = tenant_store(table)
        tenants.create_tenant(tenant())
        store = DynamoOrderStore(table)
        numbers, opt_outs = order_numbers(table), opt_out_store(table)
    deps = OrdersDeps(
        store=store,
        numbers=numbers,
        tenants=tenants,
        publisher=bus,
        opt_outs=opt_outs,
        jobs=jobs,
        poster=poster,
        sender_for=lambda _tenant: sender,
        resolve=public_resolver,
        retry=RetryPolicy(base_seconds=30, max_delay_seconds=900, max_attempts=4),
        endpoints=EndpointPolicy(),
        clock=clock,
        tenant_cache_seconds=0,
    )
    return World(deps, store, bus, jobs, poster, sender, clock)


def placed(
    order_id: str = "ord-1",
    *,
    number: int | None = None,
    at: datetime = T0,
    fulfilment: str = "delivery",
    phone: str | None = "+5511988887777",
    **extra: Any,
) -> OrderPlaced:
    lines = [
        OrderLine(
            item_id="pizza-calabresa",
            option_id="grande",
            name="Pizza Calabresa (grande)",
            quantity=2,
            unit_price_cents=4_990,
            line_total_cents=9_980,
        )
    ]
    return OrderPlaced(
        event_id=order_id,
        tenant_id=TENANT,
        correlation_id="corr-1",
        occurred_at=at,
        order_id=order_id,
        order_number=number,
        call_id=f"SCL_{order_id}",
        lines=lines,
        delivery_fee_cents=500 if fulfilment == "delivery" else 0,
        total_cents=9_980 + (500 if fulfilment == "delivery" else 0),
        fulfilment=fulfilment,
        delivery_address="Rua A, 1" if fulfilment == "delivery" else None,
        customer_phone=phone,
        customer_name="Ana",
        **extra,
    )


Factory = Callable[..., OrderPlaced]
