"""Schedules fire on their rate with a real EventBridge scheduled event; cron waits."""

from __future__ import annotations

from typing import Any

import pytest

from atende_local.schedules import Scheduler, scheduled_event
from functions.wiring_model import FunctionSpec, Schedule

SWEEPER = FunctionSpec(
    name="billing-sweeper",
    domain="billing",
    handler="functions.billing.handlers.sweeper.handler",
    description="rate schedule",
    schedules=(Schedule(name="call-sweeper", expression="rate(5 minutes)"),),
)
JOBS = FunctionSpec(
    name="billing-jobs",
    domain="billing",
    handler="functions.billing.handlers.jobs.handler",
    description="cron + rate with payloads",
    schedules=(
        Schedule(name="monthly", expression="cron(0 4 1 * ? *)", payload={"job": "statements"}),
        Schedule(name="daily", expression="rate(1 day)", payload={"job": "reconcile"}),
    ),
)


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any], Any]] = []

    def invoke_for(self, function: str) -> Any:
        def handler(event: dict[str, Any], context: Any) -> dict[str, str]:
            self.calls.append((function, event, context))
            return {"status": "done"}

        return handler


def _scheduler(recorder: Recorder) -> Scheduler:
    return Scheduler([SWEEPER, JOBS], recorder.invoke_for, clock=lambda: 0.0)


def test_a_rate_schedule_fires_one_period_after_start_then_every_period() -> None:
    # Given the scheduler planned at t=0
    recorder = Recorder()
    scheduler = _scheduler(recorder)
    scheduler.plan(now=0.0)
    # When time passes
    before = scheduler.due(now=299.0)
    first = scheduler.due(now=300.0)
    second = scheduler.due(now=600.0)
    # Then the 5-minute schedule fired at 300 s and 600 s, not before
    assert before == []
    assert [(r.function, r.schedule) for r in first] == [("billing-sweeper", "call-sweeper")]
    assert [(r.function, r.schedule) for r in second] == [("billing-sweeper", "call-sweeper")]
    # And nothing else fired (the daily rate is not due, the cron never fires by itself)
    assert {name for name, _, _ in recorder.calls} == {"billing-sweeper"}
    later = scheduler.due(now=86_400.0)
    assert ("billing-jobs", "daily") in [(r.function, r.schedule) for r in later]
    assert "monthly" not in [r.schedule for r in later]


def test_the_event_is_an_eventbridge_scheduled_event() -> None:
    recorder = Recorder()
    scheduler = _scheduler(recorder)
    scheduler.fire("billing-sweeper")
    function, event, context = recorder.calls[0]
    assert function == "billing-sweeper"
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["detail"] == {}
    assert event["resources"] == [
        "arn:aws:events:us-east-1:000000000000:rule/atende-local-billing-sweeper-call-sweeper"
    ]
    assert event["time"].endswith("Z")
    assert context.function_name == "atende-local-billing-sweeper"
    assert context.get_remaining_time_in_millis() > 0


def test_a_payload_replaces_the_event_like_the_cdk_rule_input() -> None:
    event = scheduled_event(JOBS, JOBS.schedules[0])
    assert event == {"job": "statements"}


def test_a_cron_schedule_can_be_fired_by_name() -> None:
    recorder = Recorder()
    result = _scheduler(recorder).fire("billing-jobs", "monthly")
    assert result.ok
    assert recorder.calls[0][1] == {"job": "statements"}


def test_firing_an_unknown_schedule_is_a_lookup_error() -> None:
    scheduler = _scheduler(Recorder())
    with pytest.raises(LookupError):
        scheduler.fire("billing-jobs", "weekly")
    with pytest.raises(LookupError):
        scheduler.fire("webhooks-ingress")


def test_a_failing_scheduled_handler_is_reported_not_raised() -> None:
    def broken(function: str) -> Any:
        def handler(event: Any, context: Any) -> Any:
            raise RuntimeError("nope")

        return handler

    result = Scheduler([SWEEPER], broken).fire("billing-sweeper")
    assert result.ok is False
    assert "nope" in (result.error or "")
