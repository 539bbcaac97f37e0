"""The pipeline's logic against fakes: claim/enqueue/complete ordering, what a failure at
each step leaves behind, metrics per provider and reason, request decoding."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from atende_shared.errors import (
    AtendeError,
    DependencyUnavailable,
    MalformedRequest,
    PayloadTooLarge,
    Unauthorized,
)
from atende_shared.models.envelope import InboundEvent, Provider
from atende_shared.tenant_secrets import IntegrationSecret
from functions.webhooks.logic.delivery import delivery_from_api_gateway, raw_body
from functions.webhooks.logic.pipeline import IngressDeps, Outcome, ingest_event
from functions.webhooks.models.settings import IngressSettings
from tests.webhooks.cases import CASES, LIVEKIT_KEY, LIVEKIT_SECRET, livekit_event, livekit_token
from tests.webhooks.conftest import api_event
from tests.webhooks.fakes import FakeDedupeStore, FakeSecrets, FakeSender, MetricsRecorder

LIVEKIT, BLING, *_ = CASES
BLING_SECRET = "bling-secret"


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def _settings() -> IngressSettings:
    return IngressSettings.model_validate(
        {
            "ATENDE_MAIN_TABLE": "t-main",
            "ATENDE_IDEMPOTENCY_TABLE": "t-idem",
            "ATENDE_CALLS_QUEUE_URL": "https://sqs.local/1/calls",
            "ATENDE_CATALOG_QUEUE_URL": "https://sqs.local/1/catalog.fifo",
            "ATENDE_PAYMENTS_QUEUE_URL": "https://sqs.local/1/payments.fifo",
            "ATENDE_MESSAGING_QUEUE_URL": "https://sqs.local/1/messaging.fifo",
            "LIVEKIT_API_KEY": LIVEKIT_KEY,
            "LIVEKIT_API_SECRET": LIVEKIT_SECRET,
        }
    )


@pytest.fixture
def deps() -> IngressDeps:
    secrets = FakeSecrets()
    secrets.values[("acme", "bling")] = IntegrationSecret(current={"client_secret": BLING_SECRET})
    return IngressDeps(
        settings=_settings(),
        secrets=secrets,
        dedupe=FakeDedupeStore(),
        sender=FakeSender(),
        metrics=MetricsRecorder(),
        clock=Clock(),
    )


def _bling_event(data: dict[str, Any] | None = None) -> dict[str, Any]:
    return api_event(BLING.make("acme", BLING_SECRET, data or BLING.payload("acme")))


def test_accepted_envelope_is_sent_with_group_and_dedup_id(deps: IngressDeps) -> None:
    outcome = ingest_event(_bling_event(), Provider.BLING, deps)
    assert outcome is Outcome.ACCEPTED
    [sent] = deps.sender.sent  # type: ignore[attr-defined]
    assert sent["queue_url"].endswith("catalog.fifo")
    assert sent["group"] == "acme"
    envelope = InboundEvent.model_validate_json(sent["body"])
    assert envelope.provider is Provider.BLING
    assert deps.dedupe.items[f"webhook#{envelope.dedupe_key}"]["status"] == "done"  # type: ignore[attr-defined]


def test_failed_enqueue_leaves_no_record_and_the_retry_goes_through(deps: IngressDeps) -> None:
    # Given SQS failing once
    deps.sender.failures = 1  # type: ignore[attr-defined]
    event = _bling_event()

    # When the delivery arrives, then it fails (5xx) and leaves no dedupe record
    with pytest.raises(DependencyUnavailable):
        ingest_event(event, Provider.BLING, deps)
    assert deps.dedupe.items == {}  # type: ignore[attr-defined]
    assert ("WebhookEnqueueFailed", "bling", None) in deps.metrics.counts  # type: ignore[attr-defined]

    # When the sender retries, then it is enqueued once, and the next retry is a duplicate
    assert ingest_event(event, Provider.BLING, deps) is Outcome.ACCEPTED
    assert ingest_event(event, Provider.BLING, deps) is Outcome.DUPLICATE
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]


def test_claim_left_behind_blocks_only_until_its_lease_ends(deps: IngressDeps) -> None:
    # Given an enqueue failure whose claim could not be released either
    deps.sender.failures = 1  # type: ignore[attr-defined]
    deps.dedupe.fail_release = True  # type: ignore[attr-defined]
    event = _bling_event()
    with pytest.raises(DependencyUnavailable):
        ingest_event(event, Provider.BLING, deps)

    # When the sender retries within the lease, then it is told to come back later
    assert ingest_event(event, Provider.BLING, deps) is Outcome.IN_PROGRESS
    # When it retries after the lease, then the event is enqueued
    deps.clock.now += timedelta(seconds=deps.settings.dedupe_lease_seconds + 1)  # type: ignore[attr-defined]
    assert ingest_event(event, Provider.BLING, deps) is Outcome.ACCEPTED
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]


def test_enqueued_but_not_marked_done_still_answers_accepted(deps: IngressDeps) -> None:
    deps.dedupe.fail_complete = True  # type: ignore[attr-defined]
    assert ingest_event(_bling_event(), Provider.BLING, deps) is Outcome.ACCEPTED
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]


def test_concurrent_duplicates_enqueue_once(deps: IngressDeps) -> None:
    # Given a slow queue and the same event delivered five times at once
    deps.sender.delay = 0.05  # type: ignore[attr-defined]
    event = _bling_event()
    outcomes: list[Outcome] = []
    barrier = threading.Barrier(5)

    def deliver() -> None:
        barrier.wait()
        outcomes.append(ingest_event(event, Provider.BLING, deps))

    threads = [threading.Thread(target=deliver) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Then one is accepted, the others are told to retry (or are duplicates) ...
    assert sorted(outcomes).count(Outcome.ACCEPTED) == 1
    assert set(outcomes) <= {Outcome.ACCEPTED, Outcome.IN_PROGRESS, Outcome.DUPLICATE}
    # ... and their retries are duplicates; one message in all
    assert ingest_event(event, Provider.BLING, deps) is Outcome.DUPLICATE
    assert len(deps.sender.sent) == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (lambda e: e["headers"].pop("X-Bling-Signature-256"), "missing_header"),
        (lambda e: e.__setitem__("body", e["body"] + " "), "bad_signature"),
        (lambda e: e["pathParameters"].__setitem__("tenant_id", "Not A Tenant"), "invalid_tenant"),
        (lambda e: e["pathParameters"].__setitem__("tenant_id", "ghost"), "no_secret"),
        (lambda e: e["headers"].__setitem__("Content-Type", "text/xml"), "content_type"),
        (lambda e: e.__setitem__("body", "x" * 300_000), "too_large"),
    ],
)
def test_refusals_are_counted_per_provider_and_reason(deps: IngressDeps, mutate, reason) -> None:
    event = _bling_event()
    mutate(event)
    with pytest.raises(AtendeError):
        ingest_event(event, Provider.BLING, deps)
    assert ("WebhookRejected", "bling", reason) in deps.metrics.counts  # type: ignore[attr-defined]
    assert deps.sender.sent == []  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("token_for", "reason"),
    [
        (lambda b: livekit_token(b, key="APIother"), "wrong_issuer"),
        (lambda b: livekit_token(b, ttl=timedelta(minutes=-10)), "expired"),
        (lambda b: livekit_token(b, ttl=timedelta(hours=1)), "future"),
        (lambda b: livekit_token(b, secret="x" * 40), "bad_signature"),
        (lambda b: livekit_token(b + b" "), "body_hash_mismatch"),
    ],
)
def test_livekit_refusal_reasons(deps: IngressDeps, token_for, reason) -> None:
    body = json.dumps(livekit_event("acme")).encode()
    event = api_event(LIVEKIT.make("acme", LIVEKIT_SECRET, body))
    event["headers"]["Authorization"] = token_for(body)
    with pytest.raises(Unauthorized):
        ingest_event(event, Provider.LIVEKIT, deps)
    assert ("WebhookRejected", "livekit", reason) in deps.metrics.counts  # type: ignore[attr-defined]


def test_duplicates_and_ignored_are_counted(deps: IngressDeps) -> None:
    event = _bling_event()
    ingest_event(event, Provider.BLING, deps)
    ingest_event(event, Provider.BLING, deps)
    names = deps.metrics.names()  # type: ignore[attr-defined]
    assert names.count("WebhookReceived") == 2
    assert names.count("WebhookAccepted") == 1
    assert names.count("WebhookDuplicate") == 1


def test_livekit_unconfigured_refuses_everything(deps: IngressDeps) -> None:
    deps.settings = deps.settings.model_copy(update={"livekit_api_key": None})
    body = json.dumps(livekit_event("acme")).encode()
    with pytest.raises(Unauthorized):
        ingest_event(api_event(LIVEKIT.make("acme", LIVEKIT_SECRET, body)), Provider.LIVEKIT, deps)


# -- request decoding -----------------------------------------------------------------------


def test_raw_body_is_byte_exact_for_base64_and_text() -> None:
    payload = "pão de queijo ✓".encode()
    encoded = {"body": base64.b64encode(payload).decode(), "isBase64Encoded": True}
    assert raw_body(encoded, max_bytes=100) == payload
    assert raw_body({"body": payload.decode()}, max_bytes=100) == payload
    assert raw_body({"body": None}, max_bytes=100) == b""


def test_raw_body_refuses_bad_base64_and_oversize_before_decoding() -> None:
    with pytest.raises(MalformedRequest):
        raw_body({"body": "not base64!", "isBase64Encoded": True}, max_bytes=100)
    with pytest.raises(PayloadTooLarge):
        raw_body({"body": "A" * 1000, "isBase64Encoded": True}, max_bytes=100)
    with pytest.raises(PayloadTooLarge):
        raw_body({"body": "é" * 60}, max_bytes=100)  # 60 characters, 120 bytes


def test_correlation_id_comes_from_the_header_when_sane() -> None:
    event = _bling_event()
    event["headers"]["X-Correlation-Id"] = "abc-123"
    assert (
        delivery_from_api_gateway(event, Provider.BLING, max_bytes=10**6).correlation_id
        == "abc-123"
    )
    event["headers"]["X-Correlation-Id"] = "bad id\n{json}"
    delivery = delivery_from_api_gateway(event, Provider.BLING, max_bytes=10**6)
    assert delivery.correlation_id == event["requestContext"]["requestId"]
