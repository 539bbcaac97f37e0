"""Cold-start cost of the shared layer: import time of its observability and settings
modules in a fresh interpreter, as a ratio to a bare ``import boto3`` measured in the
same run (the machines are noisy; only the ratio travels).

Run: ``python -m bench.bench_layer`` (or ``make bench`` for every benchmark).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

RUNS = int(os.environ.get("BENCH_RUNS", "7"))

CASES = {
    "baseline: import boto3": "import boto3",
    "atende_shared.settings": "import atende_shared.settings",
    "atende_shared.observability": "import atende_shared.observability",
    "settings + observability + events + messaging": (
        "import atende_shared.settings, atende_shared.observability, "
        "atende_shared.events, atende_shared.messaging"
    ),
    # The Tracer (and the X-Ray SDK) is built when a handler is decorated in Lambda.
    "observability + instrumented() handler, traced": (
        "from atende_shared.observability import instrumented; instrumented()(lambda e, c: e)"
    ),
}
#: Every case runs as in Lambda, where Powertools traces unless told not to.
LAMBDA_ENV = {"AWS_LAMBDA_FUNCTION_NAME": "atende-bench-layer"}


def _fresh_import_ms(statement: str) -> float:
    """Wall time of ``python -c statement`` minus an empty interpreter's start-up."""
    code = f"import time; t=time.perf_counter(); {statement}; print((time.perf_counter()-t)*1000)"
    out = subprocess.run(
        [sys.executable, "-X", "frozen_modules=on", "-c", code],
        check=True,
        capture_output=True,
        text=True,
        env={
            **{k: v for k, v in os.environ.items() if k != "POWERTOOLS_TRACE_DISABLED"},
            **LAMBDA_ENV,
            "PYTHONDONTWRITEBYTECODE": "1",
        },
    )
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    print(f"shared-layer import time, fresh process as in Lambda, median of {RUNS}")
    started = time.perf_counter()
    medians: dict[str, float] = {}
    for label, statement in CASES.items():
        _fresh_import_ms(statement)  # warm the OS page cache and .pyc files
        medians[label] = statistics.median(_fresh_import_ms(statement) for _ in range(RUNS))
    baseline = medians["baseline: import boto3"]
    for label, value in medians.items():
        print(f"  {label:<48} {value:8.1f} ms   x{value / baseline:5.2f} of boto3")
    print(f"  (bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
