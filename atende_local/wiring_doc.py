"""Render the declared wiring as Markdown (``docs/wiring.md``).

``python -m atende_local.wiring_doc > docs/wiring.md`` regenerates it; a unit test fails
when the committed file no longer matches the wiring, so the doc cannot drift.
"""

from __future__ import annotations

from functions.wiring import FUNCTIONS, QUEUES, TABLES
from functions.wiring_model import FunctionSpec


def _triggers(spec: FunctionSpec) -> list[str]:
    lines = [
        f"`{r.method} {r.path}` ({r.auth}"
        + (
            f"; restaurant users: {', '.join(r.tenant_roles)} under `/app`"
            if r.tenant_roles
            else ""
        )
        + ")"
        for r in spec.routes
    ]
    lines += [
        f"SQS `{q.queue.value}` (batch {q.batch_size}"
        + (f", window {q.max_batching_window_seconds}s" if q.max_batching_window_seconds else "")
        + ")"
        for q in spec.queues
    ]
    lines += [f"schedule `{s.name}`: `{s.expression}`" for s in spec.schedules]
    return lines


def _access(spec: FunctionSpec) -> str:
    a = spec.access
    parts = []
    if a.tables_read:
        parts.append("reads " + ", ".join(t.value for t in a.tables_read))
    if a.tables_write:
        parts.append("writes " + ", ".join(t.value for t in a.tables_write))
    if a.sends_to:
        parts.append("sends to " + ", ".join(q.value for q in a.sends_to))
    if a.publishes_events:
        parts.append("publishes events")
    if a.bucket_read or a.bucket_write:
        parts.append("bucket " + ", ".join(b.value for b in (*a.bucket_read, *a.bucket_write)))
    if a.secret_prefixes:
        parts.append("secrets " + ", ".join(a.secret_prefixes))
    if a.secret_writes:
        parts.append("rewrites secrets " + ", ".join(a.secret_writes))
    if a.livekit:
        parts.append("LiveKit API")
    if a.tenant_users:
        parts.append("invites restaurant users (Cognito)")
    return "; ".join(parts) or "-"


def render() -> str:
    out = [
        "# Wiring (generated)",
        "",
        "Generated from `functions/wiring.py` by `python -m atende_local.wiring_doc`;"
        " do not edit by hand. The CDK app and the local platform read the same declarations.",
        "",
        "## Functions",
        "",
        "| function | handler | triggers | access | memory / timeout / reserved |",
        "|---|---|---|---|---|",
    ]
    for spec in FUNCTIONS:
        limits = f"{spec.memory_mb} MB / {spec.timeout_seconds} s / {spec.reserved_concurrency}"
        out.append(
            f"| `{spec.name}` | `{spec.handler}` | {'<br>'.join(_triggers(spec)) or '-'} "
            f"| {_access(spec)} | {limits} |"
        )
    out += [
        "",
        "## Queues",
        "",
        "| queue | FIFO | visibility | max receives → DLQ | retention | subscriptions |",
        "|---|---|---|---|---|---|",
    ]
    for q in QUEUES:
        out.append(
            f"| `{q.name.value}` | {'yes' if q.fifo else 'no'} | {q.visibility_timeout_seconds} s "
            f"| {q.max_receive_count} | {q.retention_days} d (DLQ {q.dlq_retention_days} d) "
            f"| {', '.join(q.subscribes_to) or '-'} |"
        )
    out += ["", "## Tables", "", "| table | keys | indexes | TTL |", "|---|---|---|---|"]
    for t in TABLES:
        keys = t.partition_key + (f" / {t.sort_key}" if t.sort_key else "")
        gsis = ", ".join(f"{n} ({pk}/{sk})" for n, pk, sk in t.gsis) or "-"
        out.append(f"| `{t.name.value}` | {keys} | {gsis} | {t.ttl_attribute or '-'} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(render(), end="")
