"""Fakes for the ingress logic's ports, enforcing the contracts of the real ones."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from atende_shared.errors import DependencyUnavailable
from atende_shared.models.envelope import Provider
from atende_shared.tenant_secrets import Integration, IntegrationSecret
from functions.webhooks.logic.ports import ClaimOutcome


class FakeDedupeStore:
    """Conditional put semantics of the DynamoDB store, atomic under a lock as DynamoDB is."""

    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self.fail_release = False
        self.fail_complete = False

    def claim(
        self, key: str, *, token: str, now: int, lease_until: int, expires_at: int
    ) -> ClaimOutcome:
        with self._lock:
            old = self.items.get(key)
            free = (
                old is None
                or old["expiration"] < now
                or (old["status"] == "in_progress" and old["lease_until"] < now)
            )
            if not free:
                assert old is not None
                return ClaimOutcome.DONE if old["status"] == "done" else ClaimOutcome.IN_PROGRESS
            self.items[key] = {
                "status": "in_progress",
                "token": token,
                "lease_until": lease_until,
                "expiration": expires_at,
            }
            return ClaimOutcome.CLAIMED

    def complete(self, key: str, *, token: str) -> None:
        if self.fail_complete:
            raise DependencyUnavailable("dynamodb down")
        with self._lock:
            if self.items.get(key, {}).get("token") == token:
                self.items[key]["status"] = "done"

    def release(self, key: str, *, token: str) -> None:
        if self.fail_release:
            raise DependencyUnavailable("dynamodb down")
        with self._lock:
            if self.items.get(key, {}).get("token") == token:
                del self.items[key]


@dataclass
class FakeSender:
    """Records sends; FIFO queues demand a group id, as SQS does."""

    sent: list[dict[str, Any]] = field(default_factory=list)
    failures: int = 0  # how many next sends fail
    delay: float = 0.0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(
        self,
        queue_url: str,
        body: str,
        *,
        correlation_id: str,
        group_id: str | None = None,
        deduplication_id: str | None = None,
    ) -> str:
        if queue_url.endswith(".fifo") and not group_id:
            raise ValueError("a FIFO queue needs a message group id")
        if self.delay:
            time.sleep(self.delay)
        with self._lock:
            if self.failures:
                self.failures -= 1
                raise DependencyUnavailable("sqs down")
            self.sent.append(
                {"queue_url": queue_url, "body": body, "group": group_id, "dedup": deduplication_id}
            )
            return f"m-{len(self.sent)}"


class FakeSecrets:
    def __init__(self) -> None:
        self.values: dict[tuple[str, str], IntegrationSecret] = {}

    def get(self, tenant_id: str, integration: Integration) -> IntegrationSecret | None:
        return self.values.get((tenant_id, integration))


@dataclass
class MetricsRecorder:
    counts: list[tuple[str, str, str | None]] = field(default_factory=list)

    def count(self, name: str, provider: Provider, reason: str | None = None) -> None:
        self.counts.append((str(name), provider.value, reason))

    def names(self) -> list[str]:
        return [name for name, _, _ in self.counts]
