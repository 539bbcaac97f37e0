"""The in-process Lambda runtime: lazy imports, broken modules, one invocation at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from atende_local.runtime import (
    FunctionRegistry,
    HandlerUnavailable,
    InvocationTimeout,
    context_for,
)
from tests.local.conftest import ADMIN, BILLING, BROKEN


def test_invocations_run_one_at_a_time_across_functions() -> None:
    # Given two functions whose handlers record how many invocations overlap
    registry = FunctionRegistry([ADMIN, BILLING])
    active = 0
    peak = 0
    guard = threading.Lock()

    def handler(event: Any, context: Any) -> None:
        nonlocal active, peak
        with guard:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        with guard:
            active -= 1

    registry.override(ADMIN.name, handler)
    registry.override(BILLING.name, handler)
    names = [ADMIN.name, BILLING.name] * 4
    # When eight threads invoke them at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda name: registry.load(name)({}, None), names))
    # Then they ran one after the other (process-wide state stays with one invocation)
    assert peak == 1


def test_waiting_longer_than_the_function_timeout_raises() -> None:
    # Given a function with a 1 s timeout and the runtime held by another invocation
    spec = ADMIN.model_copy(update={"timeout_seconds": 1})
    registry = FunctionRegistry([spec, BILLING])
    entered, release = threading.Event(), threading.Event()

    def hold(event: Any, context: Any) -> None:
        entered.set()
        release.wait(10)

    registry.override(BILLING.name, hold)
    registry.override(spec.name, lambda event, context: "ran")
    holder = threading.Thread(target=registry.load(BILLING.name), args=({}, None))
    holder.start()
    assert entered.wait(10)  # the holder is inside its invocation
    # When the first function is invoked
    try:
        with pytest.raises(InvocationTimeout):
            registry.load(spec.name)({}, None)
    finally:
        release.set()
        holder.join()
    # Then it runs normally once the runtime is free
    assert registry.load(spec.name)({}, None) == "ran"


def test_a_module_that_does_not_import_is_reported_not_raised_at_start() -> None:
    registry = FunctionRegistry([BROKEN])
    states = registry.load_all()
    assert states[BROKEN.name].importable is False
    assert "does_not_exist_yet" in (states[BROKEN.name].error or "")
    with pytest.raises(HandlerUnavailable):
        registry.load(BROKEN.name)


def test_the_context_counts_down_from_the_declared_timeout() -> None:
    context = context_for(ADMIN, "atende-local")
    assert context.function_name == "atende-local-provision-admin-api"
    assert context.invoked_function_arn.endswith(":function:atende-local-provision-admin-api")
    assert context.memory_limit_in_mb == ADMIN.memory_mb
    assert 0 < context.get_remaining_time_in_millis() <= ADMIN.timeout_seconds * 1000
    assert context.aws_request_id != context_for(ADMIN).aws_request_id
