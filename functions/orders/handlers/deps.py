"""The orders domain's one composition root: dependencies built from validated settings."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from atende_shared.dal.opt_outs import opt_out_store
from atende_shared.dal.order_numbers import order_numbers
from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import EventBridgePublisher
from atende_shared.models.tenant import Tenant
from atende_shared.settings import load_settings
from atende_shared.tenant_secrets import SecretsManagerReader
from atende_shared.whatsapp import WhatsAppSender
from atende_shared.whatsapp.factory import sender_for_tenant
from atende_shared.whatsapp.sent import sent_log
from functions.orders.dal.calls import call_sessions, transcripts
from functions.orders.dal.dynamo import order_store
from functions.orders.dal.outbound import HttpxPoster, SqsJobQueue, resolve_host
from functions.orders.logic.ports import EndpointPolicy, OrdersDeps, RetryPolicy
from functions.orders.settings import OrdersApiSettings, OrdersSettings


def _sender_factory(settings: OrdersSettings) -> Callable[[Tenant], WhatsAppSender]:
    """The tenant's Z-API/Evolution sender (retries, breaker, sent-once log): built per
    message from the cached tenant and its cached secret."""
    reader = SecretsManagerReader(settings.stage)
    log = sent_log(settings.main_table)
    return lambda tenant: sender_for_tenant(tenant, reader, sent_log=log)


def _build(settings: OrdersSettings, bucket: str | None) -> OrdersDeps:
    local = settings.stage == "local"
    return OrdersDeps(
        store=order_store(settings.main_table),
        numbers=order_numbers(settings.main_table),
        tenants=tenant_store(settings.main_table),
        publisher=EventBridgePublisher(settings.event_bus_name),
        opt_outs=opt_out_store(settings.main_table),
        jobs=SqsJobQueue(settings.notifications_queue_url),
        poster=HttpxPoster(timeout_seconds=settings.webhook_timeout_seconds),
        sender_for=_sender_factory(settings),
        resolve=resolve_host,
        sessions=call_sessions(settings.main_table),
        transcripts=transcripts(bucket) if bucket else None,
        retry=RetryPolicy(
            base_seconds=settings.retry_base_seconds,
            max_delay_seconds=settings.retry_max_delay_seconds,
            max_attempts=settings.retry_max_attempts,
        ),
        # Locally the developer's receiver runs on this machine (http, loopback); in AWS
        # only public https endpoints.
        endpoints=EndpointPolicy(allow_http=local, allow_loopback=local),
        tenant_cache_seconds=settings.tenant_cache_seconds,
        presign_seconds=settings.presign_seconds,
    )


@cache
def default_deps() -> OrdersDeps:
    """Intake, notifications and reminders (no bucket)."""
    return _build(load_settings(OrdersSettings), None)


@cache
def api_deps() -> OrdersDeps:
    """The admin API (transcripts from the artifacts bucket)."""
    settings = load_settings(OrdersApiSettings)
    return _build(settings, settings.artifacts_bucket)


def reset_deps() -> None:
    """Forget the cached dependencies (tests and the local platform change the env)."""
    default_deps.cache_clear()
    api_deps.cache_clear()
