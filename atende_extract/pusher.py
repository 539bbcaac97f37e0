"""Pushing batches with retries, and the state file that makes a run resumable."""

from __future__ import annotations

import json
import os
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx


class PushFailed(Exception):
    """The server refused for good (4xx other than 408/429), or retries ran out."""


@dataclass
class RunState:
    """What survives a crash: the snapshot being sent and which records already went."""

    snapshot_id: str
    next_batch: int = 0
    sent_ids: list[str] = field(default_factory=list)
    batches: int = 0
    completed: bool = False

    @classmethod
    def new(cls) -> RunState:
        return cls(snapshot_id=f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(3)}")

    @classmethod
    def load(cls, path: Path) -> RunState | None:
        if not path.exists():
            return None
        return cls(**json.loads(path.read_text()))

    def save(self, path: Path) -> None:
        # Write-then-rename: a crash mid-write never leaves a torn state file.
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(asdict(self)))
        os.replace(tmp, path)


class Pusher:
    def __init__(
        self,
        http: httpx.Client,
        *,
        tenant_id: str,
        stream: str,
        token: str,
        max_attempts: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        backoff_cap: float = 30.0,
    ) -> None:
        self._http = http
        self._base = f"/v1/ingest/{tenant_id}/{stream}"
        self._headers = {"Authorization": f"Bearer {token}"}
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._cap = backoff_cap
        self.attempts = 0

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        last = ""
        for attempt in range(self._max_attempts):
            self.attempts += 1
            try:
                answer = self._http.post(path, json=body, headers=self._headers)
            except httpx.TransportError as exc:
                last = f"transport error: {exc}"
            else:
                if answer.status_code < 300:
                    return dict(answer.json())
                last = f"{answer.status_code} {answer.text[:300]}"
                if answer.status_code < 500 and answer.status_code not in (408, 429):
                    raise PushFailed(f"POST {path}: {last}")
            delay = min(self._cap, 0.5 * 2**attempt) * (0.5 + random.random() / 2)  # noqa: S311
            self._sleep(delay)
        raise PushFailed(f"POST {path}: gave up after {self._max_attempts} attempts ({last})")

    def batch(
        self, snapshot_id: str, batch_id: str, records: list[dict[str, Any]]
    ) -> dict[str, Any]:
        return self._post(
            self._base, {"snapshot_id": snapshot_id, "batch_id": batch_id, "records": records}
        )

    def complete(self, snapshot_id: str, batch_count: int) -> dict[str, Any]:
        return self._post(
            f"{self._base}/complete", {"snapshot_id": snapshot_id, "batch_count": batch_count}
        )
