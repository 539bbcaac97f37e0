"""The admin CLI over the gateway: tables for people, JSON with --json, clear errors."""

from __future__ import annotations

import json
import sys
import types

import pytest

from atende_local import cli
from atende_local.client import AdminClient, aws_region_of
from tests.local.conftest import TOKEN, Served


def _run(served: Served, *argv: str) -> int:
    return cli.main([*argv, "--url", served.url, "--token", TOKEN])


def test_tenants_list_renders_a_table(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(served, "tenants", "list") == 0
    output = capsys.readouterr().out
    assert "demo-pizzaria" in output
    assert "Pizzaria Demo" in output
    assert "pizzaria-two" in output  # the second page, fetched with the cursor


def test_json_flag_prints_the_api_answer(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(served, "tenants", "show", "demo-pizzaria", "--json") == 0
    assert json.loads(capsys.readouterr().out)["tenant_id"] == "demo-pizzaria"


def test_balance_is_shown_in_reais(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(served, "balance", "demo-pizzaria") == 0
    assert "R$ 500,00" in capsys.readouterr().out


def test_ledger_lists_entries(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(served, "ledger", "demo-pizzaria", "--json") == 0
    assert json.loads(capsys.readouterr().out)["items"][0]["entry_id"] == "e1"


def test_ledger_passes_the_period_and_limit_the_api_takes(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the ledger is asked for a period and a page size
    argv = ["ledger", "demo-pizzaria", "--from", "2026-11-01T00:00:00Z", "--limit", "20"]
    assert _run(served, *argv, "--to", "2026-12-01T00:00:00Z", "--json") == 0
    # Then the API received them as its query parameters
    query = json.loads(capsys.readouterr().out)["items"][0]["query"]
    assert query == {"from": "2026-11-01T00:00:00Z", "to": "2026-12-01T00:00:00Z", "limit": "20"}


def test_validation_errors_are_shown_field_by_field(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    # When the API refuses a request with field-level details
    assert _run(served, "ledger", "demo-pizzaria", "--limit", "500") == 1
    # Then each field and its problem is printed, with the correlation id
    err = capsys.readouterr().err
    assert "query.limit" in err
    assert "Input should be <= 100" in err
    assert "cid-ledger-1" in err


def test_api_errors_exit_non_zero_with_the_message(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(served, "tenants", "show", "nobody-here") == 1
    assert "404" in capsys.readouterr().err


def test_a_wrong_token_is_reported(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["tenants", "list", "--url", served.url, "--token", "wrong"])
    assert code == 1
    assert "401" in capsys.readouterr().err


def test_an_unreachable_platform_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["tenants", "list", "--url", "http://127.0.0.1:9", "--token", "x"])
    assert code == 1
    assert "cannot reach" in capsys.readouterr().err


def test_local_trigger_posts_to_the_local_endpoint(
    served: Served, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(served, "local", "trigger", "sync-scheduler", "--json") == 0
    assert served.triggered == [("sync-scheduler", None)]
    assert json.loads(capsys.readouterr().out)["ok"] is True


def test_call_delegates_to_the_voice_tool_or_says_it_is_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given no local call tool
    monkeypatch.setitem(sys.modules, "atende_local.call", None)
    assert cli.main(["call", "--text", "oi"]) == 1
    assert "not available" in capsys.readouterr().err
    # Given a tool, its argv is passed through and its status returned
    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 3

    fake = types.SimpleNamespace(main=fake_main)
    monkeypatch.setitem(sys.modules, "atende_local.call", fake)
    assert cli.main(["call", "--text", "oi"]) == 3
    assert seen == [["--text", "oi"]]


def test_routes_come_from_the_wiring() -> None:
    path = cli.route_path("billing-admin-api", "GET", "/balance", tenant_id="t-1x")
    assert path == "/v1/tenants/t-1x/balance"


def test_deployed_urls_are_signed_with_sigv4(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a deployed API URL and credentials in the environment
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    url = "https://abc123.execute-api.sa-east-1.amazonaws.com/prod"
    client = AdminClient(base_url=url, token="ignored")
    headers: dict[str, str] = {}
    # When a request is signed
    client._sign("GET", url + "/v1/tenants", b"", headers)
    # Then it carries a SigV4 signature for execute-api in the URL's region, no bearer
    assert aws_region_of(url) == "sa-east-1"
    assert headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/sa-east-1/execute-api/aws4_request" in headers["Authorization"]
    assert aws_region_of("http://127.0.0.1:8000") is None


def test_dlq_list_shows_depths(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(served, "dlq", "list") == 0
    table = capsys.readouterr().out
    assert "queues and their DLQs" in table
    assert "│ 3 " in table
    assert _run(served, "dlq", "list", "--json") == 0
    assert json.loads(capsys.readouterr().out)[0]["dlq_name"] == "atende-local-calls-dlq"


def test_dlq_replay_moves_and_reports(served: Served, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(served, "dlq", "replay", "calls", "--json") == 0
    assert json.loads(capsys.readouterr().out)["moved"] == 3
    assert served.replayed == ["calls"]
    assert _run(served, "dlq", "replay", "nothing") == 1
    assert "no single queue" in capsys.readouterr().err


def test_sync_targets_the_sync_route_declared_in_the_wiring() -> None:
    assert cli.sync_route("demo-pizzaria").startswith("/v1/tenants/demo-pizzaria/")
