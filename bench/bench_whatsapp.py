"""The WhatsApp conversation consumer: cold import, warm per-message cost, package size.

(a) Import time of ``functions.orders.handlers.whatsapp`` in a fresh interpreter as in
    Lambda, as a ratio to importing just ``boto3`` + Powertools ``Logger`` in the same run;
    and proof that it loads no ``livekit`` module (the ordering core is livekit-free).
(b) Warm time per customer message through the conversation logic (offline brain, the
    session and guards in DynamoDB, replies recorded in the sent log; the gateway itself is
    a no-op: provider calls excluded), against the bare DynamoDB requests that message
    made — the same operations, counted with a botocore hook and replayed with minimal
    items on the same in-process moto — as a ratio.
(c) Zipped size of the orders function bundle, the shared layer's code, and the layer's
    dependency closure (the Lambda runtime set, without livekit-agents).

Run: ``python -m bench.bench_whatsapp`` (or ``make bench``). moto is not AWS: only the
ratios travel.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import sys
import time
import uuid
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from bench.bench_webhooks import _fresh_import_ms, _zip_bytes

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100"))
REPO = Path(__file__).resolve().parents[1]
IN_LAMBDA = {"AWS_LAMBDA_FUNCTION_NAME": "atende-bench-whatsapp", "POWERTOOLS_TRACE_DISABLED": "1"}
_HANDLER = "import functions.orders.handlers.whatsapp"

IMPORTS: dict[str, str] = {
    "baseline: boto3 + powertools Logger": "import boto3; from aws_lambda_powertools import Logger",
    "atende_shared.ordering (the core)": "import atende_shared.ordering.dialogue",
    "functions.orders.handlers.whatsapp": _HANDLER,
}


def bench_imports() -> None:
    import compileall

    print(f"(a) import time, fresh process as in Lambda, median of {RUNS}")
    # As deployed: bytecode compiled once (the runs below must not write any).
    for folder in ("functions", "layers"):
        compileall.compile_dir(REPO / folder, quiet=1)
    medians: dict[str, float] = {}
    for label, statement in IMPORTS.items():
        _fresh_import_ms(statement, IN_LAMBDA)
        medians[label] = statistics.median(
            _fresh_import_ms(statement, IN_LAMBDA) for _ in range(RUNS)
        )
    baseline = medians["baseline: boto3 + powertools Logger"]
    for label, value in medians.items():
        print(f"  {label:<44} {value:8.1f} ms   x{value / baseline:5.2f} of baseline")
    import subprocess

    probe = (
        f"{_HANDLER}; import sys; "
        "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith('livekit')}))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout.strip()
    print(f"  livekit modules loaded by the handler: {loaded}")


def _environment() -> tuple[Any, Any]:
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "OPENAI_API_KEY"):
        os.environ.pop(var, None)
    from moto import mock_aws

    mock = mock_aws()
    mock.start()
    from atende_local.bootstrap import create_resources
    from atende_local.seed import demo_agent_config, demo_menu, demo_tenant
    from atende_shared.aws import reset_clients
    from atende_shared.dal.tenants import tenant_store
    from atende_shared.settings import reset_settings_cache

    reset_clients()
    resources = create_resources(prefix="bench")
    os.environ.update(resources.env)
    reset_settings_cache()
    store = tenant_store(resources.tables["main"])
    store.put_tenant(demo_tenant())
    store.put_agent_config(demo_agent_config())
    store.put_menu("demo-pizzaria", demo_menu())
    return mock, resources


class _NoGateway:
    """The provider call, excluded: accepts every message at once."""

    def send_text(self, message: Any) -> Any:
        from atende_shared.whatsapp import SendResult

        return SendResult(gateway="zapi", message_id=uuid.uuid4().hex)


def _event(phone: str, text: str) -> Any:
    from datetime import UTC, datetime

    from atende_local.chat import zapi_delivery
    from atende_shared.models.envelope import InboundEvent, Provider

    payload = zapi_delivery(text, phone=phone)
    return InboundEvent(
        tenant_id="demo-pizzaria",
        provider=Provider.ZAPI,
        provider_event_id=payload["messageId"],
        type="ReceivedCallback",
        occurred_at=datetime.now(UTC),
        correlation_id="bench",
        payload=payload,
    )


def bench_message() -> None:
    print(f"(b) warm per-message time on in-process moto, median of {MESSAGES} messages")
    mock, resources = _environment()
    try:
        from atende_shared.aws import resource
        from atende_shared.messaging import EventBridgePublisher
        from atende_shared.whatsapp.sent import RecordingSender, sent_log
        from functions.orders.dal.sessions import conversation_store
        from functions.orders.handlers.whatsapp_deps import CachedTenants
        from functions.orders.logic.conversation import ConversationDeps, handle_message

        table_name = resources.tables["main"]
        sent = sent_log(table_name)
        deps = ConversationDeps(
            store=conversation_store(table_name),
            tenants=CachedTenants(table_name),
            sender_for=lambda tenant, gateway: RecordingSender(_NoGateway(), sent),
            sent=sent,
            publisher=EventBridgePublisher("unused"),
        )
        ddb = resource("dynamodb").meta.client
        calls: Counter[str] = Counter()

        def count(event_name: str, **_: Any) -> None:
            calls[event_name.rsplit(".", 1)[-1]] += 1

        ddb.meta.events.register("before-call.dynamodb.*", count)
        table = resource("dynamodb").Table(table_name)

        def bare(operations: Counter[str]) -> None:
            key = {"PK": "TENANT#demo-pizzaria", "SK": f"BENCH#{uuid.uuid4().hex}"}
            for name, times in operations.items():
                for _ in range(times):
                    if name == "GetItem":
                        table.get_item(Key=key, ConsistentRead=True)
                    elif name == "PutItem":
                        table.put_item(Item={**key, "v": 1})
                    elif name == "UpdateItem":
                        table.update_item(
                            Key=key,
                            UpdateExpression="ADD hits :one",
                            ExpressionAttributeValues={":one": 1},
                        )
                    elif name == "Query":
                        table.query(
                            KeyConditionExpression="PK = :pk",
                            ExpressionAttributeValues={":pk": key["PK"]},
                            Limit=1,
                        )
                    else:
                        raise AssertionError(f"unexpected DynamoDB call {name}")

        turns = ["quero uma coca 2 litros", "e um guaraná"]
        timed: dict[str, list[float]] = {t: [] for t in turns}
        bare_timed: dict[str, list[float]] = {t: [] for t in turns}
        operations: dict[str, Counter[str]] = {}
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n in range(10 + MESSAGES):  # the first 10 customers warm up
                phone = f"55119{n:08d}"
                for turn in turns:
                    calls.clear()
                    started = time.perf_counter()
                    outcome = handle_message(_event(phone, turn), deps)
                    elapsed = time.perf_counter() - started
                    assert outcome == "answered", outcome
                    made = Counter(calls)
                    operations[turn] = made
                    started = time.perf_counter()
                    bare(made)
                    bare_elapsed = time.perf_counter() - started
                    if n >= 10:
                        timed[turn].append(elapsed)
                        bare_timed[turn].append(bare_elapsed)
        for turn in turns:
            handler_ms = statistics.median(timed[turn]) * 1000
            bare_ms = statistics.median(bare_timed[turn]) * 1000
            made = ", ".join(f"{n} {op}" for op, n in sorted(operations[turn].items()))
            label = "first message (new session)" if turn == turns[0] else "next message"
            print(
                f"  {label:<30} {handler_ms:8.2f} ms   bare {bare_ms:7.2f} ms   "
                f"x{handler_ms / bare_ms:5.2f}   ({made})"
            )
    finally:
        mock.stop()


def bench_size() -> None:
    from importlib import metadata

    print("(c) deployed size")
    bundle = [
        (p, str(p.relative_to(REPO)))
        for p in sorted((REPO / "functions" / "orders").rglob("*.py"))
        if p.name != "wiring.py"
    ] + [(REPO / "functions" / "__init__.py", "functions/__init__.py")]
    print(f"  function bundle (functions/orders)          {_zip_bytes(bundle) / 1024:8.1f} KiB")
    shared = [
        (p, "python/" + str(p.relative_to(REPO / "layers")))
        for p in sorted((REPO / "layers" / "atende_shared").rglob("*.py"))
    ]
    print(f"  layer: atende_shared (ordering core incl.)  {_zip_bytes(shared) / 1024:8.1f} KiB")
    from infra_cdk.assets import dependency_closure, domain_dependencies, layer_dependencies

    layer = dependency_closure(layer_dependencies())
    own = dependency_closure(domain_dependencies("orders")) - layer
    files = []
    for name in sorted(layer | own):
        dist = metadata.distribution(name)
        for entry in dist.files or []:
            path = Path(str(dist.locate_file(entry)))
            if path.is_file() and "__pycache__" not in path.parts:
                files.append((path, "python/" + str(entry)))
    print(
        f"  layer deps closure + orders' own ({len(layer)}+{len(own)} dists) "
        f"{_zip_bytes(files) / 2**20:8.1f} MiB  (boto3/botocore: in the runtime)"
    )
    print(f"  livekit-agents in what the function loads: {'livekit-agents' in layer | own}")


def main() -> None:
    started = time.perf_counter()
    bench_imports()
    bench_message()
    bench_size()
    print(f"  (bench took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
