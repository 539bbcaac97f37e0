"""The in-process Lambda runtime: lazy imports, broken modules, one invocation at a time."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from atende_local.runtime import FunctionRegistry, HandlerUnavailable, context_for
from tests.local.conftest import ADMIN, BROKEN


def test_a_function_serves_one_invocation_at_a_time() -> None:
    # Given a handler that records how many invocations overlap
    registry = FunctionRegistry([ADMIN])
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
    # When eight threads invoke it at once
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda _: registry.load(ADMIN.name)({}, None), range(8)))
    # Then they ran one after the other, like one Lambda execution environment
    assert peak == 1


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
