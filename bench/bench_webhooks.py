"""Webhook ingress: cold-start import cost, warm per-delivery cost, deployed size.

(a) Import time of ``functions.webhooks.handlers.ingress`` in a fresh interpreter, as a
    ratio to importing just ``boto3`` + Powertools ``Logger`` in the same run (and what the
    first LiveKit / Standard Webhooks delivery adds, since those libraries load lazily).
(b) Warm time per delivery through the handler (API Gateway event in, answer out) against
    the bare AWS calls ingress must make for it (one conditional put, one send) on the same
    in-process moto, as a ratio.
(c) Zipped size of the function bundle and of the layer closure it needs.

Run: ``python -m bench.bench_webhooks`` (or ``make bench``). Machines are noisy and moto is
not AWS: only the ratios travel.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
import warnings
import zipfile
from collections.abc import Set
from importlib import metadata
from pathlib import Path
from typing import Any

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
DELIVERIES = int(os.environ.get("BENCH_DELIVERIES", "200"))
REPO = Path(__file__).resolve().parents[1]

#: As the function runs in Lambda: Powertools builds the X-Ray Tracer there, and the X-Ray
#: SDK, seeing ``LAMBDA_TASK_ROOT``, takes its Lambda mode (the facade segment and a local
#: sampler; outside it builds an X-Ray API client for centralized sampling instead).
IN_LAMBDA = {
    "AWS_LAMBDA_FUNCTION_NAME": "atende-bench-webhooks",
    "LAMBDA_TASK_ROOT": str(REPO),
}
#: The same with ``-c traceSubsegments=false`` (Lambda's own traces, no X-Ray SDK).
IN_LAMBDA_UNTRACED = {**IN_LAMBDA, "POWERTOOLS_TRACE_DISABLED": "true"}
_INGRESS = "import functions.webhooks.handlers.ingress"

IMPORTS: dict[str, tuple[str, dict[str, str]]] = {
    "baseline: boto3 + powertools Logger": (
        "import boto3; from aws_lambda_powertools import Logger",
        IN_LAMBDA,
    ),
    "shared layer modules the handler imports": (
        "import atende_shared.http, atende_shared.messaging, atende_shared.tenant_secrets",
        IN_LAMBDA,
    ),
    "  of which aws_xray_sdk.core (Tracer) alone": ("import aws_xray_sdk.core", IN_LAMBDA),
    "functions.webhooks.handlers.ingress": (_INGRESS, IN_LAMBDA),
    "  with traceSubsegments=false": (_INGRESS, IN_LAMBDA_UNTRACED),
    "  + livekit.api (first LiveKit delivery)": (f"{_INGRESS}; import livekit.api", IN_LAMBDA),
    "  + standardwebhooks (first custom delivery)": (
        f"{_INGRESS}; import standardwebhooks",
        IN_LAMBDA,
    ),
}


def _fresh_import_ms(statement: str, extra_env: dict[str, str]) -> float:
    # CPU time of the importing process (user + system): on a shared machine wall time
    # mostly measures the other tenants of the CPU; an import is CPU and page-cache work.
    code = f"import time; t=time.process_time(); {statement}; print((time.process_time()-t)*1000)"
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"AWS_LAMBDA_FUNCTION_NAME", "POWERTOOLS_TRACE_DISABLED", "LAMBDA_TASK_ROOT"}
    }
    out = subprocess.run(
        [sys.executable, "-c", code],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**env, **extra_env, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return float(out.stdout.strip().splitlines()[-1])


def bench_imports() -> None:
    print(f"(a) import CPU time, fresh process as in Lambda, median of {RUNS}")
    medians: dict[str, float] = {}
    for label, (statement, extra_env) in IMPORTS.items():
        _fresh_import_ms(statement, extra_env)  # warm the page cache and .pyc files
        medians[label] = statistics.median(
            _fresh_import_ms(statement, extra_env) for _ in range(RUNS)
        )
    baseline = medians["baseline: boto3 + powertools Logger"]
    for label, value in medians.items():
        print(f"  {label:<46} {value:8.1f} ms   x{value / baseline:5.2f} of baseline")


def _environment() -> Any:
    """moto with every resource, the env the function sees, and tenant secrets."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "LIVEKIT_API_KEY": "APIbench",
            "LIVEKIT_API_SECRET": "bench-livekit-secret-0123456789abcdef",
        }
    )
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        os.environ.pop(var, None)
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    from atende_local.bootstrap import create_resources
    from atende_shared.aws import reset_clients
    from atende_shared.settings import reset_settings_cache
    from atende_shared.tenant_secrets import IntegrationSecret, write_secret

    reset_clients()
    resources = create_resources(prefix="bench")
    os.environ.update(resources.env)
    reset_settings_cache()
    write_secret(
        "local", "acme", "bling", IntegrationSecret(current={"client_secret": "bench-secret"})
    )
    return mock, resources


def _bling_event(secret: str) -> dict[str, Any]:
    import hashlib
    import hmac
    from datetime import UTC, datetime

    body = json.dumps(
        {
            "eventId": str(uuid.uuid4()),
            "date": datetime.now(UTC).isoformat(),
            "version": "v1",
            "event": "stock.updated",
            "companyId": "c1",
            "data": {"produto": {"id": 1}, "saldoFisicoTotal": 3},
        }
    )
    signature = "sha256=" + hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    return {
        "resource": "/webhooks/bling/{tenant_id}",
        "path": "/webhooks/bling/acme",
        "httpMethod": "POST",
        "headers": {"Content-Type": "application/json", "X-Bling-Signature-256": signature},
        "multiValueHeaders": None,
        "queryStringParameters": None,
        "pathParameters": {"tenant_id": "acme"},
        "requestContext": {"requestId": str(uuid.uuid4()), "stage": "prod"},
        "body": body,
        "isBase64Encoded": False,
    }


class _Context:
    function_name = "bench-webhooks-ingress"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:000000000000:function:bench"
    aws_request_id = "bench"


def bench_delivery() -> None:
    print(f"(b) warm per-delivery time on in-process moto, median of {DELIVERIES}")
    mock, resources = _environment()
    try:
        import contextlib

        from atende_shared.aws import client
        from functions.webhooks.handlers.ingress import handler

        ddb, sqs = client("dynamodb"), client("sqs")
        table = resources.tables["idempotency"]
        url = resources.queues["catalog"].url

        def bare() -> None:
            key = f"bench#{uuid.uuid4()}"
            ddb.put_item(
                TableName=table,
                Item={"id": {"S": key}, "expiration": {"N": "9999999999"}},
                ConditionExpression="attribute_not_exists(id)",
            )
            sqs.send_message(
                QueueUrl=url,
                MessageBody='{"k": 1}',
                MessageGroupId="acme",
                MessageDeduplicationId=key.replace("#", "-"),
            )

        events = [_bling_event("bench-secret") for _ in range(DELIVERIES + 20)]
        handler_times: list[float] = []
        bare_times: list[float] = []
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for event in events[:20]:  # warm: clients, secret cache, code paths
                assert handler(event, _Context())["statusCode"] == 200
                bare()
            # Interleaved, so load drift on a shared machine hits both sides alike.
            for event in events[20:]:
                started = time.perf_counter()
                answer = handler(event, _Context())
                handler_times.append(time.perf_counter() - started)
                assert answer["statusCode"] == 200, answer
                started = time.perf_counter()
                bare()
                bare_times.append(time.perf_counter() - started)
        handler_ms = statistics.median(handler_times) * 1000
        bare_ms = statistics.median(bare_times) * 1000
        print(f"  handler (Bling delivery, 3 AWS calls)       {handler_ms:8.2f} ms")
        print(f"  bare conditional put + send_message         {bare_ms:8.2f} ms")
        print(f"  ratio handler / bare                        x{handler_ms / bare_ms:5.2f}")
        print("  (the handler also marks the dedupe record done: one update more than the bare")
        print("   pair; the secret comes from the Powertools Parameters cache after warm-up)")
    finally:
        mock.stop()


def _zip_bytes(files: list[tuple[Path, str]]) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, name in files:
            archive.write(path, name)
    return buffer.tell()


def bench_size() -> None:
    print("(c) deployed size")
    function_files = [
        (p, str(p.relative_to(REPO)))
        for p in sorted((REPO / "functions" / "webhooks").rglob("*.py"))
        if p.name != "wiring.py"
    ] + [(REPO / "functions" / "__init__.py", "functions/__init__.py")]
    bundle_kib = _zip_bytes(function_files) / 1024
    print(f"  function bundle (functions/webhooks)        {bundle_kib:8.1f} KiB")
    shared = [
        (p, "python/" + str(p.relative_to(REPO / "layers")))
        for p in sorted((REPO / "layers" / "atende_shared").rglob("*.py"))
    ]
    print(f"  layer: atende_shared                        {_zip_bytes(shared) / 1024:8.1f} KiB")
    built = REPO / "build" / "layer"
    if built.is_dir():
        files = [(p, str(p.relative_to(built))) for p in built.rglob("*") if p.is_file()]
        print(f"  layer as built by make build (all domains)  {_zip_bytes(files) / 2**20:8.1f} MiB")
    from infra_cdk.assets import (
        DOMAIN_DEPENDENCIES,
        dependency_closure,
        domain_dependencies,
        layer_dependencies,
        runtime_dependencies,
    )

    def closure_mib(requirements: list[str], without: Set[str] = frozenset()) -> tuple[int, float]:
        names = dependency_closure(requirements) - set(without)
        files = []
        for name in sorted(names):
            dist = metadata.distribution(name)
            for entry in dist.files or []:
                path = Path(str(dist.locate_file(entry)))
                if path.is_file() and "__pycache__" not in path.parts:
                    files.append((path, "python/" + str(entry)))
        return len(names), _zip_bytes(files) / 2**20

    count, everything = closure_mib(runtime_dependencies())
    print(
        f"  all runtime deps closure ({count} dists)          {everything:8.1f} MiB"
        "  (what the layer held before domain-only deps moved to their bundles)"
    )
    layer = dependency_closure(layer_dependencies())
    count, size = closure_mib(layer_dependencies())
    print(
        f"  layer deps closure (venv wheels, {count} dists)  {size:8.1f} MiB"
        "  (boto3/botocore excluded: the runtime has them)"
    )
    for domain in DOMAIN_DEPENDENCIES:
        count, size = closure_mib(domain_dependencies(domain), without=layer)
        print(f"  + {domain} bundle's own deps ({count} dists)       {size:8.1f} MiB")


def main() -> None:
    started = time.perf_counter()
    bench_imports()
    bench_delivery()
    bench_size()
    print(f"  (bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
