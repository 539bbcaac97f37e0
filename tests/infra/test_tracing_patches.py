"""The X-Ray SDK traces every library it supports, without importing them at cold start.

Powertools' default ``patch_all`` imports each installed library X-Ray can patch (pymongo,
httpx, ...) in every function; ``atende_shared.observability.tracer`` patches a library when
the function imports it instead. Runs in a fresh interpreter, as Lambda does
(``LAMBDA_TASK_ROOT`` set: the SDK's Lambda mode).
"""

from __future__ import annotations

import os
import subprocess
import sys

_PROBE = """
import sys
from atende_shared.observability import instrumented

@instrumented()
def handler(event, context):
    return event

from aws_xray_sdk.core.patcher import _PATCHED_MODULES
before = {m: m in sys.modules for m in ("httpx", "pymongo")}
patched_before = sorted(m for m in ("botocore", "httpx", "pymongo") if m in _PATCHED_MODULES)
import httpx
print(before["httpx"], before["pymongo"], ",".join(patched_before),
      "httpx" in _PATCHED_MODULES, "pymongo" in _PATCHED_MODULES)
"""


def test_libraries_are_patched_when_imported_not_at_cold_start(tmp_path: object) -> None:
    # Given a handler decorated as in Lambda, tracing on
    env = {k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"}
    env |= {"AWS_LAMBDA_FUNCTION_NAME": "fn", "LAMBDA_TASK_ROOT": str(tmp_path)}
    # When the function later imports httpx (and never pymongo)
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    # Then neither was imported by the decoration, botocore was patched at once,
    # httpx was patched on import, and pymongo stayed out of the process
    assert answer.stdout.split() == ["False", "False", "botocore", "True", "False"]
