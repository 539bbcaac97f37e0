"""What ``atende local run`` prints: where things are, the secrets, what is offline."""

from __future__ import annotations

import os

from rich.console import Console
from rich.panel import Panel
from rich.table import Table

from atende_local.platform import PlatformInfo
from atende_local.seed import DEMO_TENANT_ID

#: Real services the platform can use, and the variables that turn each one on.
EXTERNAL_SERVICES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    (
        "LiveKit server + SIP",
        ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"),
        "offline: webhooks are verified with the dev key below; SIP provisioning uses the "
        "local stand-in",
    ),
    ("Deepgram (speech to text)", ("DEEPGRAM_API_KEY",), "offline: the voice agent's text mode"),
    ("OpenAI (LLM, TTS)", ("OPENAI_API_KEY",), "offline: the voice agent's text mode"),
    (
        "Bling / Plugg.to (ERP, hub)",
        (),
        "webhooks in: verified with the demo secrets; API calls out need the tenant's "
        "credentials (admin API)",
    ),
    (
        "Asaas (payments)",
        (),
        "webhooks in: verified with the demo token; API calls out need the tenant's api_key",
    ),
    ("Z-API / Evolution (WhatsApp)", (), "webhooks in: verified with the demo tokens"),
)

#: Webhook timestamps must be fresh, hence the shell's date in the bodies.
_NOW = '"\'"$(date -u +%FT%TZ)"\'"'
_BODY_BLING = (
    '{"eventId":"evt-demo-1","date":' + _NOW + ',"version":"v1",'
    '"event":"stock.updated","companyId":"demo","data":{"produto":{"id":1001},'
    '"saldoVirtualTotal":10}}'
)
_BODY_ASAAS = (
    '{"id":"evt_demo_1","event":"PAYMENT_RECEIVED","dateCreated":' + _NOW + ","
    '"payment":{"id":"pay_demo_1","customer":"cus_demo000001","value":100.00,'
    '"externalReference":"atende:demo-pizzaria"}}'
)


def curl_examples(info: PlatformInfo) -> list[str]:
    """Copy-pasteable commands (also in docs/local-platform.md)."""
    secrets = info.seed.secrets if info.seed else {}
    bling = secrets.get("bling", {}).get("client_secret", "<bling client_secret>")
    asaas = secrets.get("asaas", {}).get("webhook_token", "<asaas webhook_token>")
    t = DEMO_TENANT_ID
    return [
        f"export ATENDE_URL={info.url} ATENDE_ADMIN_TOKEN={info.admin_token}",
        "curl -s $ATENDE_URL/health",
        'curl -s -H "Authorization: Bearer $ATENDE_ADMIN_TOKEN" $ATENDE_URL/v1/tenants',
        f'curl -s -H "Authorization: Bearer $ATENDE_ADMIN_TOKEN" $ATENDE_URL/v1/tenants/{t}/menu',
        f'curl -s -H "Authorization: Bearer $ATENDE_ADMIN_TOKEN" '
        f"$ATENDE_URL/v1/tenants/{t}/balance",
        "# a signed Bling webhook",
        f"BODY='{_BODY_BLING}'",
        f"SIG=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -hmac '{bling}' | sed 's/^.* //')",
        f"curl -s -X POST $ATENDE_URL/webhooks/bling/{t} -H 'Content-Type: application/json' "
        '-H "X-Bling-Signature-256: sha256=$SIG" --data-raw "$BODY"',
        "# an Asaas payment notification",
        f"curl -s -X POST $ATENDE_URL/webhooks/asaas/{t} -H 'Content-Type: application/json' "
        f"-H 'asaas-access-token: {asaas}' --data-raw '{_BODY_ASAAS}'",
        "# fire a schedule now (local only), list queues and DLQs",
        'curl -s -X POST -H "Authorization: Bearer $ATENDE_ADMIN_TOKEN" '
        "$ATENDE_URL/_local/trigger/sync-scheduler",
        "atende dlq list",
        "atende tenants show demo-pizzaria",
    ]


def print_banner(info: PlatformInfo, console: Console | None = None) -> None:
    out = console or Console(stderr=True)
    token_note = (
        "generated for this run" if info.admin_token_generated else "from ATENDE_ADMIN_TOKEN"
    )
    out.print(
        Panel.fit(
            f"[bold green]Atende is running locally[/] at [bold]{info.url}[/] "
            f"(ready in {info.startup_seconds:.1f} s)\n"
            f"Admin token ({token_note}): [bold]{info.admin_token}[/]\n"
            f"AWS (DynamoDB, SQS, EventBridge, S3, Secrets Manager): moto at "
            f"{info.aws_endpoint_url}\n"
            f"Swagger UI: {info.url}/docs   Health: {info.url}/health\n"
            "Ctrl-C stops everything.",
            title="atende local run",
        )
    )
    if info.console:
        owner = next((u for u in info.console.get("users", []) if u["role"] == "owner"), None)
        out.print(f"[bold]Restaurant console:[/] {info.console['url']}")
        for user in info.console.get("users", []):
            out.print(
                f"  {user['role']:<5} of {user['tenant_id']}: [bold]{user['username']}[/] "
                f"password [bold]{user['password']}[/]"
            )
        if owner is None:
            out.print("  (no console users seeded)")
    if info.seed_error:
        out.print(f"[bold red]demo tenant not seeded:[/] {info.seed_error}")
    if info.seed:
        table = Table(title=f"Demo tenant {info.seed.tenant_id} (phone {info.seed.phone_number})")
        table.add_column("integration")
        table.add_column("secret field")
        table.add_column("value", overflow="fold")
        for integration, values in info.seed.secrets.items():
            for name, value in values.items():
                table.add_row(integration, name, value)
        out.print(table)
        out.print(f"balance: {info.seed.balance}; phone number: {info.seed.phone}")
        for note in info.seed.notes:
            out.print(f"[yellow]note:[/] {note}")
    lk = info.livekit
    out.print(
        f"LiveKit: [bold]{lk.mode}[/] {lk.url or ''} api key [bold]{lk.api_key}[/] "
        f"secret [bold]{lk.api_secret}[/] (signs local LiveKit webhooks)"
    )
    services = Table(title="Real services vs local stand-ins")
    services.add_column("service")
    services.add_column("state")
    services.add_column("to use the real one, set")
    for name, variables, offline in EXTERNAL_SERVICES:
        configured = bool(variables) and all(os.environ.get(v) for v in variables)
        if name.startswith("LiveKit"):
            configured = lk.mode == "real"
            if lk.mode == "fake":
                offline = (
                    f"local fake SIP API at {lk.url} (trunks and dispatch rules, no media); "
                    "webhooks are verified with the dev key below"
                )
        services.add_row(name, "[green]real[/]" if configured else offline, " ".join(variables))
    out.print(services)
    broken = {n: f for n, f in info.functions.items() if not f.get("importable")}
    if broken:
        table = Table(title="Functions that do not import yet (their routes answer 502)")
        table.add_column("function")
        table.add_column("error")
        for name, state in broken.items():
            table.add_row(name, str(state.get("error")))
        out.print(table)
    out.print("[bold]Try:[/]")
    for line in curl_examples(info):
        out.print(line, markup=False, highlight=False, soft_wrap=True)
