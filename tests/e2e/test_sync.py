"""Push ingestion end to end through the local gateway: ``atende-extract`` reads a SQLite
ERP, pushes batches to ``/v1/ingest/...``, the queue pumps apply them, the catalog matches
the database, and a deleted row disappears after the next complete snapshot."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from atende_extract.cli import extract
from atende_extract.config import load_config
from tests.e2e.conftest import PlatformClient

pytest.importorskip("sqlalchemy")  # the extractor's SQL sources need it

pytestmark = pytest.mark.e2e

ROWS = [(f"E{i:02d}", f"Esfiha {i}", f"{4 + i}.50", i % 3, "S") for i in range(1, 13)]


def _erp(path: Path) -> None:
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE ITENS (COD TEXT, NOME TEXT, PRECO NUMERIC, SALDO INT, ATIVO TEXT)")
    db.executemany("INSERT INTO ITENS VALUES (?, ?, ?, ?, ?)", ROWS)
    db.commit()
    db.close()


def _config(platform: PlatformClient, tmp_path: Path) -> Path:
    path = tmp_path / "extract.json"
    path.write_text(
        json.dumps(
            {
                "target": {
                    "url": platform.base_url,
                    "tenant_id": platform.demo_tenant_id,
                    "token": platform.demo_secrets["ingest"]["token"],
                    "batch_size": 5,
                },
                "source": {
                    "kind": "sql",
                    "url": f"sqlite:///{tmp_path / 'erp.db'}",
                    "query": "SELECT COD, NOME, PRECO, SALDO, ATIVO FROM ITENS ORDER BY COD",
                },
                "columns": {
                    "source_id": "COD",
                    "name": "NOME",
                    "price": "PRECO",
                    "stock": "SALDO",
                    "available": "ATIVO",
                },
                "state_file": str(tmp_path / "state.json"),
            }
        )
    )
    return path


def _finished_run(platform: PlatformClient, run_id: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        answer = platform.http.get(
            f"/v1/tenants/{platform.demo_tenant_id}/sync-runs/{run_id}", headers=platform.admin
        )
        if answer.status_code != 200:
            return None
        run = answer.json()
        return run if run["status"] in ("succeeded", "guarded", "failed") else None

    return platform.wait_for(probe, timeout=60)


def _pushed_items(platform: PlatformClient) -> dict[str, dict[str, Any]]:
    answer = platform.http.get(
        f"/v1/tenants/{platform.demo_tenant_id}/menu", headers=platform.admin
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    items = body.get("items", body.get("menu", {}).get("items", []))
    return {i["item_id"]: i for i in items if i["item_id"].startswith("push-")}


def test_extractor_pushes_a_sqlite_catalog_and_a_deleted_row_disappears(
    platform: PlatformClient, tmp_path: Path
) -> None:
    # Given an ERP database and the demo tenant's ingest token
    _erp(tmp_path / "erp.db")
    config = load_config(_config(platform, tmp_path))

    # When the extractor pushes a snapshot through the local gateway
    summary = extract(config)

    # Then the batches are applied in the background and the catalog matches the database
    assert summary["batches"] == 3
    run = _finished_run(platform, summary["run_id"])
    assert run["status"] == "succeeded"
    assert run["counts"]["created"] == len(ROWS)
    items = _pushed_items(platform)
    assert {
        k: (v["name"], v["price_cents"], v["stock"], v["available"]) for k, v in items.items()
    } == {
        f"push-{cod}": (name, int(price.replace(".", "")), stock, True)
        for cod, name, price, stock, _ in ROWS
    }

    # When a row is deleted in the ERP and the next snapshot completes
    db = sqlite3.connect(tmp_path / "erp.db")
    db.execute("DELETE FROM ITENS WHERE COD = 'E05'")
    db.commit()
    db.close()
    again = extract(config)
    run = _finished_run(platform, again["run_id"])

    # Then that item is no longer offered, and nothing else changed
    assert run["status"] == "succeeded"
    assert run["counts"]["deleted"] == 1
    assert run["counts"]["unchanged"] == len(ROWS) - 1
    items = _pushed_items(platform)
    assert not items.get("push-E05", {"available": False})["available"]
    assert all(v["available"] for k, v in items.items() if k != "push-E05")
