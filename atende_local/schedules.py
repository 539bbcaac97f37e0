"""EventBridge schedules, fired locally (moto never fires them).

``rate(...)`` schedules fire every period, the first time one period after start-up, as
EventBridge does. ``cron(...)`` schedules do not fire on their own locally; fire any
schedule at once with ``atende local trigger <function>`` (``POST /_local/trigger/...``).

The event is the one the CDK rule delivers: with an empty ``payload`` the standard
"Scheduled Event"; with a payload, the rule's target input is that JSON object and it
*replaces* the event (``RuleTargetInput.fromObject(payload)``), so the handler receives
exactly the payload.
"""

from __future__ import annotations

import heapq
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from atende_local.runtime import LOCAL_ACCOUNT_ID, LOCAL_REGION, context_for, format_exception
from functions.wiring_model import FunctionSpec, Schedule

log = Logger(service="atende-local", use_rfc3339=True)
Invoke = Callable[[dict[str, Any], Any], Any]


def rule_arn(spec: FunctionSpec, schedule: Schedule, prefix: str = "atende-local") -> str:
    name = f"{prefix}-{spec.name}-{schedule.name}"
    return f"arn:aws:events:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:rule/{name}"


def scheduled_event(
    spec: FunctionSpec, schedule: Schedule, *, prefix: str = "atende-local"
) -> dict[str, Any]:
    """What the function receives when ``schedule`` fires."""
    if schedule.payload:
        return dict(schedule.payload)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": LOCAL_ACCOUNT_ID,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": LOCAL_REGION,
        "resources": [rule_arn(spec, schedule, prefix)],
        "detail": {},
    }


@dataclass
class FireResult:
    function: str
    schedule: str
    ok: bool
    result: Any = None
    error: str | None = None


class Scheduler:
    """Fires every ``rate(...)`` schedule on its period, on one thread."""

    def __init__(
        self,
        functions: list[FunctionSpec],
        invoke_for: Callable[[str], Invoke],
        *,
        prefix: str = "atende-local",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._functions = {f.name: f for f in functions if f.schedules}
        self._invoke_for = invoke_for
        self._prefix = prefix
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._heap: list[tuple[float, str, str]] = []
        self.fired: list[FireResult] = []

    @property
    def scheduled(self) -> list[tuple[FunctionSpec, Schedule]]:
        return [(f, s) for f in self._functions.values() for s in f.schedules]

    def plan(self, now: float | None = None) -> None:
        """Put every rate schedule on the heap, due one period from ``now``."""
        start = self._clock() if now is None else now
        self._heap = []
        for spec, schedule in self.scheduled:
            period = schedule.rate_seconds
            if period is not None:
                heapq.heappush(self._heap, (start + period, spec.name, schedule.name))

    def due(self, now: float | None = None) -> list[FireResult]:
        """Fire every schedule due at ``now`` and re-plan it one period later."""
        moment = self._clock() if now is None else now
        results: list[FireResult] = []
        while self._heap and self._heap[0][0] <= moment:
            when, function, schedule_name = heapq.heappop(self._heap)
            results.append(self.fire(function, schedule_name))
            schedule = self._schedule(function, schedule_name)
            period = schedule.rate_seconds or 0
            heapq.heappush(self._heap, (when + period, function, schedule_name))
        return results

    def next_due(self) -> float | None:
        return self._heap[0][0] if self._heap else None

    def _schedule(self, function: str, schedule_name: str | None) -> Schedule:
        spec = self._functions.get(function)
        if spec is None:
            raise LookupError(f"function {function!r} has no schedule")
        if schedule_name is None:
            return spec.schedules[0]
        for schedule in spec.schedules:
            if schedule.name == schedule_name:
                return schedule
        names = ", ".join(s.name for s in spec.schedules)
        raise LookupError(f"function {function!r} has no schedule {schedule_name!r} ({names})")

    def fire(self, function: str, schedule_name: str | None = None) -> FireResult:
        """Invoke ``function`` now with the event of its schedule ``schedule_name``."""
        schedule = self._schedule(function, schedule_name)
        spec = self._functions[function]
        event = scheduled_event(spec, schedule, prefix=self._prefix)
        context = context_for(spec, self._prefix)
        try:
            result = self._invoke_for(function)(event, context)
        except Exception as exc:
            outcome = FireResult(function, schedule.name, ok=False, error=f"{exc}")
            log.error(
                "scheduled invocation failed",
                extra={
                    "function": function,
                    "schedule": schedule.name,
                    "error": format_exception(exc),
                },
            )
        else:
            outcome = FireResult(function, schedule.name, ok=True, result=result)
            log.info(
                "schedule fired",
                extra={
                    "function": function,
                    "schedule": schedule.name,
                    "aws_request_id": context.aws_request_id,
                },
            )
        self.fired.append(outcome)
        del self.fired[:-100]
        return outcome

    def _run(self) -> None:
        self.plan()
        while not self._stop.is_set():
            upcoming = self.next_due()
            wait = 60.0 if upcoming is None else max(0.0, upcoming - self._clock())
            if self._stop.wait(min(wait, 60.0)):
                return
            self.due()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()
