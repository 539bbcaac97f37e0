"""``atende``: run the local platform and do the common admin chores.

    atende local run | local trigger FUNCTION [--schedule NAME]
    atende tenants list | tenants show ID | tenants onboard ID --name N [--number E164 ...]
    atende balance ID | ledger ID | sync ID [--full] [--wait]
    atende dlq list | dlq peek QUEUE | dlq replay QUEUE
    atende call [ARGS...]            (the voice agent's local call, atende_local.call)
    atende chat --script FILE [...]  (a WhatsApp customer, atende_local.chat)
    atende orders list ID [--watch] | orders show ID ORDER | orders status ID ORDER STATUS
    atende calls list ID | calls show ID CALL | statements get ID YYYY-MM

Talks to ``ATENDE_URL`` (else ``http://127.0.0.1:$ATENDE_PORT``) with the bearer token
``ATENDE_ADMIN_TOKEN`` (else the one the running local platform wrote to its state file);
an ``https://...execute-api...`` URL is signed with SigV4 instead. ``--json`` prints JSON.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from rich.console import Console
from rich.table import Table

from atende_local.client import AdminClient, ApiError, field_errors
from atende_local.follow import describe, follow_run
from atende_local.onboard import OnboardingPlan, onboard
from atende_local.settings import LocalSettings
from functions.wiring import FUNCTIONS

out = Console()
err = Console(stderr=True)


class CliError(Exception):
    """A problem the user can fix; printed without a traceback, exit status 1."""


# -- helpers ---------------------------------------------------------------------------------


def _settings() -> LocalSettings:
    return LocalSettings()


def _local_token(settings: LocalSettings) -> str | None:
    try:
        state = json.loads(settings.state_file.read_text())
    except (OSError, ValueError):
        return None
    token = state.get("admin_token")
    return str(token) if token else None


def make_client(args: argparse.Namespace) -> AdminClient:
    settings = _settings()
    base_url = (args.url or settings.base_url()).rstrip("/")
    token = args.token or (
        settings.admin_token.get_secret_value() if settings.admin_token else None
    )
    client = AdminClient(base_url=base_url, token=token)
    if not client.is_aws and not client.token:
        client.token = _local_token(settings)
    return client


def route_path(function: str, method: str, suffix: str, **params: str) -> str:
    """The path of a declared route (from the wiring, so renames follow automatically)."""
    for spec in FUNCTIONS:
        if spec.name != function:
            continue
        for route in spec.routes:
            if route.method == method and route.path.endswith(suffix):
                path = route.path
                for key, value in params.items():
                    path = path.replace("{" + key + "}", value)
                return path
    raise CliError(f"no {method} route ending in {suffix!r} is declared for {function}")


def sync_route(tenant_id: str) -> str:
    """The sync domain's admin POST route that starts a tenant's sync (from the wiring)."""
    candidates = [
        route.path
        for spec in FUNCTIONS
        if spec.domain == "sync"
        for route in spec.routes
        if route.method == "POST"
        and route.auth == "admin"
        and route.path.startswith("/v1/tenants/{tenant_id}/")
        and route.path.count("{") == 1
    ]
    candidates.sort(key=lambda p: ("sync" not in p, len(p)))
    if not candidates:
        raise CliError(
            "the wiring declares no admin sync route yet; locally use "
            "`atende local trigger sync-scheduler`"
        )
    return candidates[0].replace("{tenant_id}", tenant_id)


def _emit(args: argparse.Namespace, data: Any, render: Callable[[Any], None]) -> None:
    if args.json:
        out.print_json(json.dumps(data, default=str))
    else:
        render(data)


def _money(cents: Any) -> str:
    try:
        value = int(cents) / 100
    except (TypeError, ValueError):
        return str(cents)
    return f"R$ {value:,.2f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _items(data: Any, *keys: str) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [d for d in data if isinstance(d, dict)]
    if isinstance(data, dict):
        for key in keys:
            value = data.get(key)
            if isinstance(value, list):
                return [d for d in value if isinstance(d, dict)]
    return []


def _table(title: str, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    table = Table(title=title)
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c)) for c in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _kv(title: str, data: Any) -> None:
    if not isinstance(data, dict):
        out.print(data)
        return
    table = Table(title=title, show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in data.items():
        table.add_row(str(key), _cell(value))
    out.print(table)


# -- commands ----------------------------------------------------------------------------------


def cmd_local_run(args: argparse.Namespace) -> int:
    from atende_local.console import print_banner
    from atende_local.platform import LocalPlatform

    settings = _settings()
    platform = LocalPlatform(settings)
    stop = threading.Event()

    def _request_stop(signum: int, _frame: Any) -> None:
        if stop.is_set():  # a second Ctrl-C: the user does not want to wait
            err.print("forced exit")
            os._exit(130)
        stop.set()

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    try:
        with err.status("starting moto, resources, demo tenant, pumps, gateway..."):
            info = platform.start()
        print_banner(info, err)
        while not stop.wait(0.5):
            pass
        err.print("stopping...")
    except OSError as exc:
        raise CliError(
            f"cannot start the local platform: {exc} (port {settings.port} taken? set ATENDE_PORT)"
        ) from exc
    finally:
        platform.stop()
    err.print("stopped.")
    return 0


def cmd_local_trigger(args: argparse.Namespace) -> int:
    client = make_client(args)
    payload = {"schedule": args.schedule} if args.schedule else None
    result = client.post(f"/_local/trigger/{args.function}", payload)
    _emit(args, result, lambda d: _kv(f"triggered {args.function}", d))
    return 0


def cmd_tenants_list(args: argparse.Namespace) -> int:
    client = make_client(args)
    path = route_path("provision-admin-api", "GET", "/v1/tenants")
    data = client.get(path)
    # Follow the cursor so the list is complete (pages of 50).
    while (
        isinstance(data, dict) and data.get("next_cursor") and len(data.get("items", [])) < 10_000
    ):
        page = client.get(f"{path}?{urlencode({'cursor': data['next_cursor']})}")
        data = {
            "items": data["items"] + page.get("items", []),
            "next_cursor": page.get("next_cursor"),
        }
    _emit(
        args,
        data,
        lambda d: _table("tenants", _items(d, "tenants", "items"), ("tenant_id", "name", "status")),
    )
    return 0


def cmd_tenants_show(args: argparse.Namespace) -> int:
    path = route_path("provision-admin-api", "GET", "/{tenant_id}", tenant_id=args.tenant_id)
    data = make_client(args).get(path)
    _emit(args, data, lambda d: _kv(f"tenant {args.tenant_id}", d))
    return 0


def cmd_tenants_onboard(args: argparse.Namespace) -> int:
    try:
        plan = OnboardingPlan.from_files(
            tenant_id=args.tenant_id,
            name=args.name,
            number=args.number,
            legal_id=args.legal_id,
            time_zone=args.time_zone,
            agent_file=args.agent,
            menu_file=args.menu,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    client = make_client(args)
    if args.json:
        report = onboard(client, plan, wait_seconds=args.wait)
    else:
        with err.status("onboarding") as status:
            report = onboard(
                client, plan, progress=lambda m: status.update(m), wait_seconds=args.wait
            )

    balance = _opening_balance(client, plan.tenant_id) if report.ok else None

    def render(d: Any) -> None:
        _table(f"onboarding {plan.tenant_id}", d["steps"], ("step", "outcome", "error"))
        if d.get("warning"):
            err.print(f"[bold yellow]warning:[/] {d['warning']}", highlight=False)
        token = (d.get("test_call") or {}).get("token")
        if token:
            out.print(f"test-call token (room {d['test_call']['room_name']}):\n{token}")

    _emit(
        args,
        {
            "tenant_id": report.tenant_id,
            "ok": report.ok,
            "steps": report.steps,
            "phone": report.phone,
            "test_call": report.test_call,
            **({"warning": _NO_BALANCE_WARNING} if balance == 0 else {}),
        },
        render,
    )
    return 0 if report.ok else 1


_NO_BALANCE_WARNING = (
    "the tenant has no prepaid balance: calls will be refused until it is credited "
    "(POST /v1/tenants/<tenant>/credits, or a payment)"
)


def _opening_balance(client: AdminClient, tenant_id: str) -> int | None:
    """The new tenant's available balance, or None when it cannot be read."""
    try:
        path = route_path("billing-admin-api", "GET", "/balance", tenant_id=tenant_id)
        data = client.get(path)
    except (ApiError, LookupError):
        return None
    value = data.get("available_cents") if isinstance(data, dict) else None
    return value if isinstance(value, int) else None


def cmd_balance(args: argparse.Namespace) -> int:
    path = route_path("billing-admin-api", "GET", "/balance", tenant_id=args.tenant_id)
    data = make_client(args).get(path)

    def render(d: Any) -> None:
        if isinstance(d, dict):
            d = {k: (_money(v) if k.endswith("_cents") else v) for k, v in d.items()}
        _kv(f"balance of {args.tenant_id}", d)

    _emit(args, data, render)
    return 0


_LEDGER_COLUMNS = (
    "seq",
    "created_at",
    "posted_at",
    "kind",
    "amount_cents",
    "balance_after_cents",
    "business_id",
)


def cmd_ledger(args: argparse.Namespace) -> int:
    path = route_path("billing-admin-api", "GET", "/ledger", tenant_id=args.tenant_id)
    query = {
        name: value
        for name, value in (
            ("from", getattr(args, "period_from", None)),
            ("to", getattr(args, "period_to", None)),
            ("limit", getattr(args, "limit", None)),
        )
        if value is not None
    }
    data = make_client(args).get(f"{path}?{urlencode(query)}" if query else path)

    def render(d: Any) -> None:
        rows = _items(d, "entries", "items", "ledger")
        present = list(dict.fromkeys(k for row in rows for k in row))
        preferred = [c for c in _LEDGER_COLUMNS if c in present]
        columns = preferred or present[:6] or ["entries"]
        rows = [
            {k: (_money(v) if k.endswith("_cents") else v) for k, v in row.items()} for row in rows
        ]
        _table(f"ledger of {args.tenant_id}", rows, columns)

    _emit(args, data, render)
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    mode = "full" if getattr(args, "full", False) else "incremental"
    client = make_client(args)
    start_path = sync_route(args.tenant_id)
    data = client.post(start_path, {"mode": mode})
    if getattr(args, "wait", False) and isinstance(data, dict) and data.get("run_id"):
        run_path = f"{start_path}/{data['run_id']}"
        if args.json:
            *_, data = follow_run(client, run_path)
        else:
            with err.status(f"sync of {args.tenant_id}: queued") as status:
                for view in follow_run(client, run_path):
                    status.update(f"sync of {args.tenant_id}: {describe(view)}")
                    data = view
    _emit(args, data, lambda d: _kv(f"sync of {args.tenant_id}", d))
    failed = isinstance(data, dict) and data.get("status") in {"failed", "guarded"}
    return 1 if failed else 0


def _aws_sqs() -> Any:
    import boto3

    return boto3.client("sqs")


def cmd_dlq_list(args: argparse.Namespace) -> int:
    client = make_client(args)
    if client.is_aws:
        from atende_local.dlq import list_queues

        data = [q.as_dict() for q in list_queues(_aws_sqs(), prefix=args.prefix or "")]
    else:
        data = client.get("/_local/queues")["queues"]
    _emit(
        args,
        data,
        lambda d: _table(
            "queues and their DLQs",
            d,
            ("name", "visible", "in_flight", "dlq_name", "dlq_visible", "max_receive_count"),
        ),
    )
    return 0


def cmd_dlq_replay(args: argparse.Namespace) -> int:
    client = make_client(args)
    if client.is_aws:
        from atende_local.dlq import find_queue, list_queues, replay

        sqs = _aws_sqs()
        with err.status(f"replaying the DLQ of {args.queue}..."):
            info = find_queue(list_queues(sqs, prefix=args.prefix or ""), args.queue)
            data = replay(sqs, info).as_dict()
    else:
        with err.status(f"replaying the DLQ of {args.queue}..."):
            data = client.post(f"/_local/dlq/{args.queue}/replay")
    _emit(args, data, lambda d: _kv(f"replay of {args.queue}", d))
    return 1 if data.get("failed") else 0


def cmd_dlq_peek(args: argparse.Namespace) -> int:
    client = make_client(args)
    if client.is_aws:
        from atende_local.dlq import find_queue, list_queues, peek

        sqs = _aws_sqs()
        data = peek(sqs, find_queue(list_queues(sqs, prefix=args.prefix or ""), args.queue))
    else:
        data = client.get(f"/_local/dlq/{args.queue}/messages")["messages"]

    def render(d: list[dict[str, Any]]) -> None:
        if not d:
            out.print(f"the DLQ of {args.queue} is empty")
        else:
            _table(f"DLQ of {args.queue} (first {len(d)})", d, ("message_id", "body"))

    _emit(args, data, render)
    return 0


def cmd_call(args: argparse.Namespace) -> int:
    try:
        module = importlib.import_module("atende_local.call")
    except ImportError as exc:
        raise CliError(f"the local call tool is not available (atende_local.call: {exc})") from exc
    entry = getattr(module, "main", None)
    if not callable(entry):
        raise CliError("atende_local.call has no main(argv) function")
    return int(entry(list(args.call_args)) or 0)


def cmd_chat(args: argparse.Namespace) -> int:
    from atende_local import chat

    return int(chat.main(list(args.chat_args)) or 0)


# -- parser ------------------------------------------------------------------------------------


# -- orders, call records, statements (the orders domain) -------------------------------


_ORDER_COLUMNS = (
    "#",
    "status",
    "channel",
    "fulfilment",
    "total",
    "customer",
    "placed_at",
    "order_id",
)


def _order_row(order: dict[str, Any]) -> dict[str, Any]:
    customer = order.get("customer") or {}
    return {
        "#": order.get("order_number"),
        "status": order.get("status"),
        "channel": order.get("channel"),
        "fulfilment": order.get("fulfilment"),
        "total": _money(order.get("total_cents")),
        "customer": " ".join(str(v) for v in (customer.get("name"), customer.get("phone")) if v),
        "placed_at": order.get("placed_at"),
        "order_id": order.get("order_id"),
    }


def _orders_path(args: argparse.Namespace) -> str:
    path = route_path("orders-admin-api", "GET", "/orders", tenant_id=args.tenant_id)
    query = {
        k: v
        for k, v in (
            ("status", args.status),
            ("channel", args.channel),
            ("from", args.since),
            ("limit", str(args.limit)),
        )
        if v
    }
    return f"{path}?{urlencode(query)}" if query else path


def _render_orders(args: argparse.Namespace, data: Any) -> None:
    rows = [_order_row(o) for o in _items(data, "items")]
    _table(f"orders of {args.tenant_id} (newest first)", rows, _ORDER_COLUMNS)


def cmd_orders_list(args: argparse.Namespace) -> int:
    client = make_client(args)
    if not getattr(args, "watch", False):
        _emit(args, client.get(_orders_path(args)), lambda d: _render_orders(args, d))
        return 0
    import time

    from rich.live import Live

    def board() -> Table:
        rows = [_order_row(o) for o in _items(client.get(_orders_path(args)), "items")]
        table = Table(title=f"orders of {args.tenant_id} (live, Ctrl-C to stop)")
        for column in _ORDER_COLUMNS:
            table.add_column(column, overflow="fold")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in _ORDER_COLUMNS))
        return table

    try:
        with Live(board(), console=out, refresh_per_second=2) as live:
            while True:
                time.sleep(args.interval)
                live.update(board())
    except KeyboardInterrupt:
        return 0


def _order_path(args: argparse.Namespace) -> str:
    ref = str(args.order)
    if ref.lstrip("#").isdigit():
        return route_path(
            "orders-admin-api", "GET", "/by-number/{number}", tenant_id=args.tenant_id
        ).replace("{number}", ref.lstrip("#"))
    return route_path(
        "orders-admin-api", "GET", "/orders/{order_id}", tenant_id=args.tenant_id
    ).replace("{order_id}", ref)


def _render_order(order: Any) -> None:
    if not isinstance(order, dict):
        out.print(order)
        return
    _kv(
        f"order #{order.get('order_number')} "
        f"({order.get('status')}, version {order.get('version')})",
        {
            **{k: v for k, v in _order_row(order).items() if k != "#"},
            "address": (order.get("address") or {}).get("raw"),
            "notes": order.get("notes"),
            "allowed next": ", ".join(order.get("allowed_transitions") or []),
        },
    )
    lines = [
        {
            "qty": ln.get("quantity"),
            "item": ln.get("name"),
            "unit": _money(ln.get("unit_price_cents")),
            "total": _money(ln.get("line_total_cents")),
        }
        for ln in order.get("lines") or []
    ]
    _table("lines", lines, ("qty", "item", "unit", "total"))
    history = [
        {k: h.get(k) for k in ("version", "from_status", "to_status", "at", "actor", "reason")}
        for h in order.get("history") or []
    ]
    _table("history", history, ("version", "from_status", "to_status", "at", "actor", "reason"))
    sent = order.get("notifications") or []
    if sent:
        _table(
            "notifications", sent, ("kind", "target", "event_type", "status", "attempts", "reason")
        )


def cmd_orders_show(args: argparse.Namespace) -> int:
    _emit(args, make_client(args).get(_order_path(args)), _render_order)
    return 0


def cmd_orders_status(args: argparse.Namespace) -> int:
    client = make_client(args)
    order = client.get(_order_path(args))
    path = route_path("orders-admin-api", "POST", "/status", tenant_id=args.tenant_id).replace(
        "{order_id}", str(order["order_id"])
    )
    headers = {"If-Match": f'"{args.if_match}"'} if args.if_match else None
    payload = {"status": args.status, "reason": args.reason}
    data = client.request("POST", path, payload, extra_headers=headers)
    _emit(args, data, _render_order)
    return 0


_CALL_COLUMNS = ("call_id", "started_at", "duration_seconds", "charged", "outcome", "order")


def cmd_calls_list(args: argparse.Namespace) -> int:
    path = route_path("orders-admin-api", "GET", "/call-records", tenant_id=args.tenant_id)
    data = make_client(args).get(path)

    def render(d: Any) -> None:
        rows = [
            {
                **c,
                "charged": _money(c.get("charged_cents"))
                if c.get("charged_cents") is not None
                else "",
                "order": f"#{c['order_number']}" if c.get("order_number") else "",
            }
            for c in _items(d, "items")
        ]
        _table(f"calls of {args.tenant_id}", rows, _CALL_COLUMNS)

    _emit(args, data, render)
    return 0


def cmd_calls_show(args: argparse.Namespace) -> int:
    path = route_path(
        "orders-admin-api", "GET", "/call-records/{call_id}", tenant_id=args.tenant_id
    ).replace("{call_id}", args.call_id)
    data = make_client(args).get(path)

    def render(d: Any) -> None:
        transcript = d.pop("transcript", None) or {}
        _kv(f"call {d.get('call_id')}", d)
        for turn in transcript.get("turns") or []:
            role = turn.get("role", "?")
            text = turn.get("text") or turn.get("content") or ""
            out.print(f"[bold]{role}:[/] {text}", highlight=False)

    _emit(args, data, render)
    return 0


def cmd_statements_get(args: argparse.Namespace) -> int:
    import httpx

    path = route_path(
        "billing-admin-api", "GET", "/statements/{period}", tenant_id=args.tenant_id
    ).replace("{period}", args.period)
    links = make_client(args).get(path)
    url = links[f"{args.format}_url"]
    target = args.output or Path(f"{args.tenant_id}-{args.period}.{args.format}")
    answer = httpx.get(url, timeout=30)
    if answer.status_code != 200:
        raise CliError(f"download failed: HTTP {answer.status_code}")
    target.write_bytes(answer.content)
    _emit(
        args,
        {"period": args.period, "file": str(target), "bytes": len(answer.content)},
        lambda d: out.print(f"statement {d['period']} saved to {d['file']} ({d['bytes']} bytes)"),
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="print JSON")
    common.add_argument("--url", default=argparse.SUPPRESS, help="API URL (default ATENDE_URL)")
    common.add_argument(
        "--token", default=argparse.SUPPRESS, help="admin token (default ATENDE_ADMIN_TOKEN)"
    )

    parser = argparse.ArgumentParser(
        prog="atende", description="Atende admin CLI and local platform.", parents=[common]
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = sub.add_parser("local", help="the local platform", parents=[common])
    local_sub = local.add_subparsers(dest="local_command", required=True, metavar="ACTION")
    local_sub.add_parser(
        "run", help="run everything locally (moto, gateway, pumps, demo tenant)", parents=[common]
    ).set_defaults(func=cmd_local_run)
    trigger = local_sub.add_parser(
        "trigger", help="fire a function's schedule now", parents=[common]
    )
    trigger.add_argument("function", help="function name, e.g. sync-scheduler")
    trigger.add_argument("--schedule", help="schedule name when the function has several")
    trigger.set_defaults(func=cmd_local_trigger)

    tenants = sub.add_parser("tenants", help="tenants", parents=[common])
    tenants_sub = tenants.add_subparsers(dest="tenants_command", required=True, metavar="ACTION")
    tenants_sub.add_parser("list", help="list tenants", parents=[common]).set_defaults(
        func=cmd_tenants_list
    )
    show = tenants_sub.add_parser("show", help="show one tenant", parents=[common])
    show.add_argument("tenant_id")
    show.set_defaults(func=cmd_tenants_show)
    wizard = tenants_sub.add_parser(
        "onboard",
        help="create a tenant, its agent and menu, assign a number, mint a test-call token",
        parents=[common],
    )
    wizard.add_argument("tenant_id", help="slug, e.g. pizzaria-bella")
    wizard.add_argument("--name", required=True, help="the business's name")
    wizard.add_argument("--number", help="phone number to assign (E.164)")
    wizard.add_argument("--legal-id", help="CNPJ/CPF")
    wizard.add_argument("--time-zone", default="America/Sao_Paulo")
    wizard.add_argument("--agent", type=Path, help="JSON file: the agent configuration")
    wizard.add_argument("--menu", type=Path, help='JSON file: the menu ({"items": [...]})')
    wizard.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the number (default 60)"
    )
    wizard.set_defaults(func=cmd_tenants_onboard)

    for name, func, help_text in (
        ("balance", cmd_balance, "a tenant's prepaid balance"),
        ("ledger", cmd_ledger, "a tenant's ledger entries"),
        ("sync", cmd_sync, "start a catalog sync for a tenant"),
    ):
        command = sub.add_parser(name, help=help_text, parents=[common])
        command.add_argument("tenant_id")
        if name == "ledger":
            command.add_argument(
                "--from",
                dest="period_from",
                metavar="ISO8601",
                help="entries posted at or after (with a timezone, e.g. 2026-11-01T00:00:00Z)",
            )
            command.add_argument(
                "--to", dest="period_to", metavar="ISO8601", help="entries posted before"
            )
            command.add_argument(
                "--limit", type=int, help="entries per page, 1..100 (the API's default: 50)"
            )
        if name == "sync":
            command.add_argument("--full", action="store_true", help="a full (not incremental) run")
            command.add_argument(
                "--wait", action="store_true", help="follow the run's progress until it ends"
            )
        command.set_defaults(func=func)

    dlq = sub.add_parser("dlq", help="dead-letter queues", parents=[common])
    dlq_sub = dlq.add_subparsers(dest="dlq_command", required=True, metavar="ACTION")
    for name, func, help_text in (
        ("list", cmd_dlq_list, "queues with their DLQ depth"),
        ("peek", cmd_dlq_peek, "show up to 10 messages of a queue's DLQ (left in place)"),
        ("replay", cmd_dlq_replay, "move a queue's DLQ messages back to it"),
    ):
        command = dlq_sub.add_parser(name, help=help_text, parents=[common])
        if name in ("peek", "replay"):
            command.add_argument("queue", help="queue name, e.g. calls or atende-local-calls")
        command.add_argument("--prefix", help="(AWS) only queues whose name starts with this")
        command.set_defaults(func=func)

    _add_orders_commands(sub, common)

    call = sub.add_parser("call", help="a local test call with the voice agent", add_help=False)
    call.add_argument("call_args", nargs=argparse.REMAINDER)
    call.set_defaults(func=cmd_call)
    chat = sub.add_parser("chat", help="play a WhatsApp customer (--script FILE)", add_help=False)
    chat.add_argument("chat_args", nargs=argparse.REMAINDER)
    chat.set_defaults(func=cmd_chat)
    return parser


def _add_orders_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    """``atende orders list|show|status``, ``atende calls list|show``, ``atende statements get``."""
    orders = sub.add_parser("orders", help="a tenant's orders", parents=[common])
    orders_sub = orders.add_subparsers(dest="orders_command", required=True, metavar="ACTION")
    listing = orders_sub.add_parser("list", help="orders, newest first", parents=[common])
    listing.add_argument("tenant_id")
    listing.add_argument("--status", help="only this status (received, accepted, ...)")
    listing.add_argument("--channel", choices=("voice", "whatsapp"))
    listing.add_argument("--since", help="placed at or after (ISO time with zone)")
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--watch", action="store_true", help="live board, refreshed")
    listing.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes")
    listing.set_defaults(func=cmd_orders_list)
    show = orders_sub.add_parser("show", help="one order (id or kitchen number)", parents=[common])
    show.add_argument("tenant_id")
    show.add_argument("order", help="order id, or the kitchen's number (e.g. 12 or #12)")
    show.set_defaults(func=cmd_orders_show)
    status = orders_sub.add_parser("status", help="change an order's status", parents=[common])
    status.add_argument("tenant_id")
    status.add_argument("order", help="order id, or the kitchen's number")
    status.add_argument("status", help="accepted, preparing, ready, out_for_delivery, ...")
    status.add_argument("--reason", help="required to refuse or cancel")
    status.add_argument("--if-match", type=int, help="only if the order is still at this version")
    status.set_defaults(func=cmd_orders_status)

    calls = sub.add_parser("calls", help="a tenant's call records", parents=[common])
    calls_sub = calls.add_subparsers(dest="calls_command", required=True, metavar="ACTION")
    calls_list = calls_sub.add_parser("list", help="calls with outcome and order", parents=[common])
    calls_list.add_argument("tenant_id")
    calls_list.set_defaults(func=cmd_calls_list)
    calls_show = calls_sub.add_parser("show", help="one call with its transcript", parents=[common])
    calls_show.add_argument("tenant_id")
    calls_show.add_argument("call_id", help="SIP call id or room name")
    calls_show.set_defaults(func=cmd_calls_show)

    statements = sub.add_parser("statements", help="monthly statements", parents=[common])
    st_sub = statements.add_subparsers(dest="statements_command", required=True, metavar="ACTION")
    get = st_sub.add_parser("get", help="download one month's statement", parents=[common])
    get.add_argument("tenant_id")
    get.add_argument("period", help="YYYY-MM")
    get.add_argument("--format", choices=("csv", "json"), default="csv")
    get.add_argument("--output", type=Path, help="file to write (default <tenant>-<period>.<fmt>)")
    get.set_defaults(func=cmd_statements_get)


def main(argv: Sequence[str] | None = None) -> int:
    raw = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if raw[:1] == ["call"]:
        # Everything after "call" belongs to the voice tool, options included.
        args = argparse.Namespace(func=cmd_call, call_args=raw[1:])
    elif raw[:1] == ["chat"]:
        args = argparse.Namespace(func=cmd_chat, chat_args=raw[1:])
    else:
        args = parser.parse_args(raw)
    for name, default in (("json", False), ("url", None), ("token", None)):
        if not hasattr(args, name):
            setattr(args, name, default)
    try:
        return int(args.func(args))
    except ApiError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        for field, problem in field_errors(exc.body):
            err.print(f"  [red]{field}[/]: {problem}", highlight=False)
        correlation = exc.body.get("correlation_id") if isinstance(exc.body, dict) else None
        if correlation:
            err.print(f"  correlation id: {correlation}", highlight=False)
        return 1
    except (CliError, LookupError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
