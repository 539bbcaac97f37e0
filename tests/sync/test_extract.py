"""atende-extract: SQL (SQLite, and real PostgreSQL and MariaDB servers started for the
session by ``atende_local.stand_ins.databases``), CSV and JSON → mapped records → batches
with retries and resume."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from atende_extract.cli import extract, main
from atende_extract.config import ExtractConfig, load_config
from atende_extract.pusher import PushFailed, RunState
from atende_local.stand_ins import databases
from atende_shared.dal.tenants import tenant_store
from atende_shared.models.tenant import CatalogSource
from atende_shared.settings import reset_settings_cache
from atende_shared.tenant_secrets import IntegrationSecret, write_secret
from tests.sync.bridge import drain_catalog, empty_queue, transport
from tests.sync.conftest import new_tenant

pytest.importorskip("sqlalchemy")  # the extractor's SQL sources need it

TOKEN = "extract-token"


@pytest.fixture
def tenant(sync_aws):
    reset_settings_cache()
    tenant_id = new_tenant(sync_aws, CatalogSource.PUSH)
    write_secret("local", tenant_id, "ingest", IntegrationSecret(current={"token": TOKEN}))
    empty_queue(sync_aws.queues["catalog"].url)
    return tenant_id


@dataclass
class Erp:
    """The ERP's database: a products table created the way an ERP's DDL would (unquoted
    upper-case names, which PostgreSQL folds to lower case), written through SQLAlchemy."""

    url: str

    def _run(self, *statements: tuple[str, list[dict[str, object]] | None]) -> None:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.url)
        try:
            with engine.begin() as conn:
                for sql, params in statements:
                    conn.execute(text(sql), params or [])
        finally:
            engine.dispose()

    def create(self, n: int = 25) -> None:
        rows = [
            {
                "c": f"P{i:03d}",
                "d": f"Produto {i}",
                "p": f"{i}.90",
                "s": i % 4,
                "a": "S" if i % 5 else "N",
            }
            for i in range(1, n + 1)
        ]
        self._run(
            ("DROP TABLE IF EXISTS PRODUTOS", None),
            (
                "CREATE TABLE PRODUTOS (CODPROD VARCHAR(20), DESCR VARCHAR(200),"
                " PRECO NUMERIC(10, 2), SALDO REAL, ATIVO VARCHAR(1))",
                None,
            ),
            ("INSERT INTO PRODUTOS VALUES (:c, :d, :p, :s, :a)", rows),
        )

    def delete(self, code: str) -> None:
        self._run(("DELETE FROM PRODUTOS WHERE CODPROD = :c", [{"c": code}]))


def _server(start):
    try:
        server = start()
    except databases.Unavailable as exc:
        pytest.skip(str(exc))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgresql_server():
    yield from _server(databases.start_postgres)


@pytest.fixture(scope="session")
def mariadb_server():
    yield from _server(databases.start_mariadb)


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.databases),
        pytest.param("mariadb", marks=pytest.mark.databases),
    ]
)
def erp(request, tmp_path) -> Iterator[Erp]:
    """Given the ERP's database on SQLite, PostgreSQL or MariaDB."""
    if request.param == "sqlite":
        yield Erp(f"sqlite:///{tmp_path / 'erp.db'}")
        return
    server = request.getfixturevalue(f"{request.param}_server")
    yield Erp(server.url)


def config(tmp_path, tenant, *, erp=None, batch_size=10, **source):
    data = {
        "target": {
            "url": "http://atende.local",
            "tenant_id": tenant,
            "token": TOKEN,
            "batch_size": batch_size,
            "max_attempts": 3,
        },
        "source": source
        or {
            "kind": "sql",
            "url": erp.url if erp else f"sqlite:///{tmp_path / 'erp.db'}",
            "query": "SELECT * FROM PRODUTOS ORDER BY CODPROD",
        },
        "columns": {
            "source_id": "CODPROD",
            "name": "DESCR",
            "price": "PRECO",
            "stock": "SALDO",
            "available": "ATIVO",
        },
        "state_file": str(tmp_path / "state.json"),
    }
    path = tmp_path / "extract.json"
    path.write_text(json.dumps(data))
    return load_config(path)


def client(flaky=None):
    inner = transport()

    def handle(request):
        if flaky and flaky(request):
            return httpx.Response(503, json={"error": "try later"})
        return inner.handle_request(request)

    return httpx.Client(base_url="http://atende.local", transport=httpx.MockTransport(handle))


def menu(sync_aws, tenant):
    return tenant_store(sync_aws.tables["main"]).get_menu(tenant).by_id()


def test_a_sql_catalog_is_pushed_and_mirrored(sync_aws, tenant, tmp_path, erp):
    erp.create()
    summary = extract(config(tmp_path, tenant, erp=erp), http=client(), sleep=lambda s: None)
    assert summary["records"] == 25
    assert summary["batches"] == 3
    drain_catalog(sync_aws.queues["catalog"].url)

    items = menu(sync_aws, tenant)
    assert len(items) == 25
    assert items["push-P007"].price_cents == 790
    assert items["push-P007"].stock == 3
    assert not items["push-P005"].available  # ATIVO = 'N'
    state = RunState.load(tmp_path / "state.json")
    assert state is not None
    assert state.completed


def test_transient_failures_are_retried(sync_aws, tenant, tmp_path):
    erp = Erp(f"sqlite:///{tmp_path / 'erp.db'}")  # HTTP retries: one database is enough
    erp.create(5)
    calls = {"n": 0}

    def every_other(request):
        calls["n"] += 1
        return calls["n"] % 2 == 1

    cfg = config(tmp_path, tenant, erp=erp)
    summary = extract(cfg, http=client(every_other), sleep=lambda s: None)
    assert summary["http_attempts"] == 4  # one batch + complete, each failed once
    drain_catalog(sync_aws.queues["catalog"].url)
    assert len(menu(sync_aws, tenant)) == 5


def test_a_crashed_push_resumes_without_resending_and_completes_the_snapshot(
    sync_aws, tenant, tmp_path, erp
):
    erp.create(25)
    sent = []

    def down_after_two_batches(request):
        if request.url.path.endswith("/catalog"):
            sent.append(json.loads(request.content)["batch_id"])
            return len(sent) > 2
        return False

    cfg = config(tmp_path, tenant, erp=erp)
    with pytest.raises(PushFailed):
        extract(cfg, http=client(down_after_two_batches), sleep=lambda s: None)
    state = RunState.load(tmp_path / "state.json")
    assert state is not None
    assert len(state.sent_ids) == 20
    assert not state.completed

    pushed = []

    def record(request):
        if request.url.path.endswith("/catalog"):
            pushed.append(json.loads(request.content))
        return False

    summary = extract(cfg, http=client(record), sleep=lambda s: None)

    assert summary["snapshot_id"] == state.snapshot_id
    assert summary["sent_now"] == 5
    assert [len(b["records"]) for b in pushed] == [5]
    drain_catalog(sync_aws.queues["catalog"].url)
    assert len(menu(sync_aws, tenant)) == 25


def test_a_deleted_row_disappears_after_the_next_snapshot(sync_aws, tenant, tmp_path, erp):
    erp.create(30)
    cfg = config(tmp_path, tenant, erp=erp)
    extract(cfg, http=client(), sleep=lambda s: None)
    drain_catalog(sync_aws.queues["catalog"].url)
    erp.delete("P011")

    extract(cfg, http=client(), sleep=lambda s: None)
    drain_catalog(sync_aws.queues["catalog"].url)

    items = menu(sync_aws, tenant)
    assert not items["push-P011"].available
    assert items["push-P012"].available


def test_csv_and_json_sources_map_the_same_way(tmp_path, tenant):
    (tmp_path / "p.csv").write_text("CODPROD,DESCR,PRECO,SALDO,ATIVO\nA1,Suco,7.50,2,S\n")
    (tmp_path / "p.jsonl").write_text(
        json.dumps({"CODPROD": "A1", "DESCR": "Suco", "PRECO": "7.50", "SALDO": 2, "ATIVO": "S"})
    )
    from atende_extract.sources import map_row, rows

    csv_cfg = config(tmp_path, tenant, kind="csv", path=str(tmp_path / "p.csv"))
    json_cfg = config(tmp_path, tenant, kind="json", path=str(tmp_path / "p.jsonl"))
    [from_csv] = [map_row(r, csv_cfg) for r in rows(csv_cfg)]
    [from_json] = [map_row(r, json_cfg) for r in rows(json_cfg)]
    assert from_csv == {
        "source_id": "A1",
        "name": "Suco",
        "price": "7.50",
        "stock": "2",
        "available": True,
    }
    assert from_json["available"] is True
    assert from_json["price"] == "7.50"


def test_config_errors_are_explained(tmp_path):
    with pytest.raises(ValueError, match="source_id"):
        ExtractConfig.model_validate(
            {
                "target": {"url": "u", "tenant_id": "t1"},
                "source": {"kind": "csv", "path": "x"},
                "columns": {"name": "N", "price": "P"},
            }
        )


def test_cli_dry_run_prints_mapped_records(tmp_path, tenant, capsys, erp):
    erp.create(2)
    config(tmp_path, tenant, erp=erp)
    assert main(["--config", str(tmp_path / "extract.json"), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert json.loads(lines[0])["source_id"] == "P001"
