"""The one pipeline every delivery goes through, whatever the provider.

size (413) → content type (415) → authenticate (401) → parse (400) → validate (422) →
normalise → claim the dedupe key → enqueue → mark done → 200.

Lose nothing, enqueue once: the dedupe key is *claimed* (status ``in_progress`` with a short
lease) before the enqueue and marked ``done`` after it. A failed enqueue deletes the claim
and answers 503, so the sender's retry finds no record and enqueues. A concurrent duplicate
that finds a live claim answers 503 + ``Retry-After``: if the first attempt fails, its retry
must still get through, and if it succeeds the retry is answered 200 ``duplicate``.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from atende_shared.errors import (
    AtendeError,
    DependencyUnavailable,
    MalformedRequest,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)
from atende_shared.models.common import utc_now
from atende_shared.models.envelope import Provider
from atende_shared.observability import bind_correlation_id, logger
from atende_shared.ports.messaging import QueueSender
from atende_shared.ports.secrets import SecretReader
from functions.webhooks.logic import asaas, bling, custom, evolution, livekit, pluggto, zapi
from functions.webhooks.logic.common import AdapterContext
from functions.webhooks.logic.delivery import (
    Accepted,
    Batch,
    Delivery,
    Ignored,
    Normalised,
    delivery_from_api_gateway,
)
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.logic.ports import ClaimOutcome, DedupeStore, MetricsSink
from functions.webhooks.models.settings import IngressSettings

DEDUPE_PREFIX = "webhook#"

Adapter = Callable[[Delivery, AdapterContext], Normalised]
ADAPTERS: dict[Provider, Adapter] = {
    Provider.LIVEKIT: livekit.accept,
    Provider.BLING: bling.accept,
    Provider.ASAAS: asaas.accept,
    Provider.PLUGGTO: pluggto.accept,
    Provider.ZAPI: zapi.accept,
    Provider.EVOLUTION: evolution.accept,
    Provider.CUSTOM: custom.accept,
}


class Metric(StrEnum):
    RECEIVED = "WebhookReceived"
    REJECTED = "WebhookRejected"
    ACCEPTED = "WebhookAccepted"
    DUPLICATE = "WebhookDuplicate"
    IN_PROGRESS = "WebhookInProgress"
    IGNORED = "WebhookIgnored"
    ENQUEUE_FAILED = "WebhookEnqueueFailed"


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    IN_PROGRESS = "in_progress"  # answered 503 + Retry-After


@dataclass
class IngressDeps:
    settings: IngressSettings
    secrets: SecretReader
    dedupe: DedupeStore
    sender: QueueSender
    metrics: MetricsSink
    clock: Callable[[], Any] = field(default=utc_now)


def message_group_id(tenant_id: str | None, group_key: str | None) -> str:
    """The FIFO message group: the tenant, or one conversation of it. SQS allows 128
    characters; a longer key is hashed (still stable per conversation)."""
    tenant = tenant_id or "-"
    if not group_key:
        return tenant
    group = f"{tenant}#{group_key}"
    if len(group) <= 128:
        return group
    return f"{tenant}#{hashlib.sha256(group_key.encode()).hexdigest()}"


def _is_json(content_type: str | None) -> bool:
    if not content_type:
        return False
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _reason(error: AtendeError) -> str:
    if isinstance(error, AuthFailure):
        return error.reason
    kinds: tuple[tuple[type[AtendeError], str], ...] = (
        (PayloadTooLarge, "too_large"),
        (UnsupportedMediaType, "content_type"),
        (MalformedRequest, "malformed"),
        (ValidationFailed, "schema"),
        (DependencyUnavailable, "dependency"),
    )
    for kind, reason in kinds:
        if isinstance(error, kind):
            return reason
    return error.code


def dedupe_message_id(key: str) -> str:
    """The FIFO ``MessageDeduplicationId``: SQS drops a resend within 5 minutes too."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def ingest_event(
    event: Mapping[str, Any],
    provider: Provider,
    deps: IngressDeps,
    *,
    route_params: Mapping[str, str] | None = None,
) -> Outcome:
    """Run one API Gateway event through the pipeline. Raises :class:`AtendeError` for every
    refusal (the resolver maps it to its status)."""
    deps.metrics.count(Metric.RECEIVED, provider)
    now = deps.clock()
    try:
        delivery = delivery_from_api_gateway(
            event,
            provider,
            max_bytes=deps.settings.webhook_max_body_bytes,
            route_params=route_params,
        )
        bind_correlation_id(delivery.correlation_id)
        if not _is_json(delivery.header("content-type")):
            raise UnsupportedMediaType("content type must be application/json")
        context = AdapterContext(settings=deps.settings, secrets=deps.secrets, now=now)
        try:
            normalised = ADAPTERS[provider](delivery, context)
        except ValidationError as exc:  # an envelope field out of range: still the input's fault
            raise ValidationFailed(
                f"payload cannot be normalised: {exc.error_count()} errors"
            ) from exc
        if isinstance(normalised, Batch):
            return _deliver_batch(normalised, provider, deps)
        if isinstance(normalised, Ignored):
            return _ignore(normalised, provider, deps)
        return _deliver(normalised, deps)
    except AtendeError as error:
        if not isinstance(error, _EnqueueFailed):  # counted as ENQUEUE_FAILED already
            deps.metrics.count(Metric.REJECTED, provider, _reason(error))
        raise


def _ignore(ignored: Ignored, provider: Provider, deps: IngressDeps) -> Outcome:
    logger.info("webhook ignored", extra={"provider": provider, "reason": ignored.reason})
    deps.metrics.count(Metric.IGNORED, provider)
    return Outcome.IGNORED


def _deliver_batch(batch: Batch, provider: Provider, deps: IngressDeps) -> Outcome:
    """Each event of a batched delivery on its own: claimed, enqueued, done. The answer is
    503 (retry the whole batch) if any event is in flight elsewhere or fails to enqueue;
    the retry finds the events already enqueued as duplicates, so nothing is doubled."""
    outcomes = [
        _ignore(item, provider, deps) if isinstance(item, Ignored) else _deliver(item, deps)
        for item in batch.items
    ]
    for outcome in (Outcome.IN_PROGRESS, Outcome.ACCEPTED, Outcome.DUPLICATE):
        if outcome in outcomes:
            return outcome
    return Outcome.IGNORED


class _EnqueueFailed(DependencyUnavailable):
    code = "enqueue_failed"


def _deliver(accepted: Accepted, deps: IngressDeps) -> Outcome:
    event = accepted.event
    provider = event.provider
    try:
        body = event.model_dump_json()
    except (PydanticSerializationError, ValueError) as exc:  # e.g. lone surrogates in strings
        raise ValidationFailed("payload cannot be re-encoded as JSON") from exc
    key = DEDUPE_PREFIX + event.dedupe_key
    token = uuid.uuid4().hex
    now = int(deps.clock().timestamp())
    claim = deps.dedupe.claim(
        key,
        token=token,
        now=now,
        lease_until=now + deps.settings.dedupe_lease_seconds,
        expires_at=now + deps.settings.dedupe_ttl_for(provider.value),
    )
    if claim is ClaimOutcome.DONE:
        deps.metrics.count(Metric.DUPLICATE, provider)
        logger.info("duplicate webhook", extra={"dedupe_key": key})
        return Outcome.DUPLICATE
    if claim is ClaimOutcome.IN_PROGRESS:
        deps.metrics.count(Metric.IN_PROGRESS, provider)
        logger.info("webhook already in progress", extra={"dedupe_key": key})
        return Outcome.IN_PROGRESS
    try:
        deps.sender.send(
            deps.settings.url_for(accepted.queue),
            body,
            correlation_id=event.correlation_id,
            group_id=message_group_id(event.tenant_id, accepted.group_key),
            deduplication_id=dedupe_message_id(key),
        )
    except Exception as exc:  # whatever failed, free the key so the sender's retry enqueues
        deps.metrics.count(Metric.ENQUEUE_FAILED, provider)
        try:
            deps.dedupe.release(key, token=token)
        except Exception:  # the lease expires on its own; the retry after it succeeds
            logger.exception("could not release dedupe claim", extra={"dedupe_key": key})
        raise _EnqueueFailed(f"enqueue of {key} to {accepted.queue} failed: {exc}") from exc
    try:
        deps.dedupe.complete(key, token=token)
    except Exception:  # enqueued: answer 200; FIFO dedup / idempotent consumers absorb a resend
        logger.exception("enqueued but could not mark the dedupe key done", extra={"key": key})
    deps.metrics.count(Metric.ACCEPTED, provider)
    logger.info(
        "webhook accepted",
        extra={"dedupe_key": key, "queue": accepted.queue.value, "type": event.type},
    )
    return Outcome.ACCEPTED
