"""A rate limiter shared by every concurrent function: a sliding log in one DynamoDB item.

Bling allows 3 requests per second and 120,000 per day per account, across every caller.
Each request first records its timestamp in ``LEASE#ratelimit#<name>`` (the last N stamps,
an optimistic version check making the update atomic); a caller that would be the N+1-th
inside the window sleeps until the oldest stamp leaves it. A sliding log, unlike a token
bucket, never lets N+1 requests land inside any one-second window.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from atende_shared.dal import keys
from atende_shared.dal.dynamo import ConditionFailed, storage_call, table
from atende_shared.errors import DependencyUnavailable


class DailyQuotaExhausted(DependencyUnavailable):
    """The account's daily request quota is spent; retry after midnight UTC."""


class DynamoSlidingWindowLimiter:
    def __init__(
        self,
        table_name: str,
        tenant_id: str,
        name: str,
        *,
        per_window: int = 3,
        window_seconds: float = 1.0,
        per_day: int = 120_000,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        margin_seconds: float = 0.02,
    ) -> None:
        self._table_name = table_name
        self._key = {
            keys.PK: keys.tenant_pk(tenant_id),
            keys.SK: f"{keys.LEASE_PREFIX}ratelimit#{name}",
        }
        self._per_window = per_window
        self._window = window_seconds
        self._per_day = per_day
        self._clock = clock
        self._sleep = sleep
        self._margin = margin_seconds

    def acquire(self) -> None:
        """Block until this caller may send one request; raise when the day is spent."""
        tbl: Any = table(self._table_name)
        while True:
            with storage_call("read rate limiter"):
                current = tbl.get_item(Key=self._key, ConsistentRead=True).get("Item") or {}
            now = self._clock()
            stamps = [float(s) for s in current.get("stamps", [])]
            recent = sorted(s for s in stamps if now - s < self._window)
            if len(recent) >= self._per_window:
                oldest = recent[-self._per_window]
                self._sleep(max(self._window - (now - oldest) + self._margin, self._margin))
                continue
            day = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d")
            used = int(current.get("day_count", 0)) if current.get("day") == day else 0
            if used >= self._per_day:
                raise DailyQuotaExhausted(f"daily request quota of {self._per_day} spent")
            version = int(current.get("version", 0))
            keep = [*recent[-(self._per_window - 1) :], now] if self._per_window > 1 else [now]
            try:
                with storage_call("update rate limiter", conditional=True):
                    tbl.put_item(
                        Item={
                            **self._key,
                            "entity": "rate_limiter",
                            "stamps": [Decimal(str(round(s, 6))) for s in keep],
                            "version": version + 1,
                            "day": day,
                            "day_count": used + 1,
                        },
                        ConditionExpression="attribute_not_exists(PK) OR version = :v",
                        ExpressionAttributeValues={":v": version},
                    )
            except ConditionFailed:
                continue  # another caller took a slot first: look again
            return
