"""Sync engine benchmark: mirror N items, then re-sync with 1% changed.

Shows that the content-hash diff issues exactly one write per changed item, and compares
time and peak memory (the resident memory a run adds, measured in a forked copy of the
process) against rewriting the whole catalog (the baseline), in the same run. The default
backend keeps the catalog in memory behind the engine's repository port (each write still
pays the DynamoDB item conversion); ``ATENDE_BENCH_SYNC_BACKEND=moto`` uses the real DAL
on moto (slow: use N <= 5,000).

    ATENDE_BENCH_SYNC_N=100000 .venv/bin/python -m bench.bench_sync

N defaults to the issue's 100,000 (each scenario runs twice: once in a forked child for its
memory peak, once timed).
"""

from __future__ import annotations

import gc
import os
import resource
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Literal

os.environ.setdefault("AWS_ACCESS_KEY_ID", "bench")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "bench")
os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "Bench")
os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "ERROR")
os.environ.pop("AWS_ENDPOINT_URL", None)

from moto import mock_aws

from atende_local.bootstrap import create_resources
from atende_shared.aws import reset_clients
from atende_shared.dal.dynamo import to_item
from atende_shared.models.tenant import Tenant
from functions.sync.dal.dynamo import DynamoCatalogRepository, DynamoRunRepository
from functions.sync.logic.connectors.base import SourcePage
from functions.sync.logic.engine import CatalogEngine, EngineConfig
from functions.sync.models.catalog import CatalogItem, ItemState
from functions.sync.models.runs import SyncMode, SyncRun

TENANT = "bench-tenant"
PAGE = 1_000


class CountingCatalog(DynamoCatalogRepository):
    def __init__(self, table_name: str, *, rewrite_all: bool = False) -> None:
        super().__init__(table_name)
        self.writes = 0
        self.rewrite_all = rewrite_all

    def states(self, tenant_id: str) -> dict[str, ItemState]:
        found = super().states(tenant_id)
        if self.rewrite_all:
            # The baseline: forget the hashes, so every item looks changed and is rewritten.
            return {k: ItemState(item_id=k, source=v.source) for k, v in found.items()}
        return found

    def put_items(self, tenant_id: str, items: Sequence[CatalogItem], **kw: Any) -> None:
        self.writes += len(items)
        super().put_items(tenant_id, items, **kw)

    def soft_delete(self, tenant_id: str, item_ids: Sequence[str], **kw: Any) -> None:
        self.writes += len(item_ids)
        super().soft_delete(tenant_id, item_ids, **kw)


class MemoryCatalog:
    """The catalog port in memory; a write still pays the DynamoDB item conversion."""

    def __init__(self, store: dict[str, dict[str, Any]], *, rewrite_all: bool = False) -> None:
        self.store = store
        self.writes = 0
        self.rewrite_all = rewrite_all

    def states(self, tenant_id: str) -> dict[str, ItemState]:
        return {
            k: ItemState(
                item_id=k,
                content_hash=None if self.rewrite_all else v["content_hash"],
                source=v["source"],
                deleted=bool(v.get("deleted_at")),
            )
            for k, v in self.store.items()
        }

    def get_items(self, tenant_id: str, item_ids: Any) -> dict[str, Any]:
        raise NotImplementedError  # full mirrors use states()

    def put_items(self, tenant_id: str, items: Sequence[CatalogItem], **kw: Any) -> None:
        self.writes += len(items)
        for item in items:
            self.store[item.item_id] = {
                **to_item(item.model_dump(mode="json", exclude_none=True)),
                "content_hash": item.content_hash(),
            }

    def soft_delete(self, tenant_id: str, item_ids: Sequence[str], **kw: Any) -> None:
        self.writes += len(item_ids)
        for item_id in item_ids:
            self.store[item_id]["deleted_at"] = "now"


class MemoryRuns:
    def __init__(self) -> None:
        self.runs: dict[str, SyncRun] = {}
        self.ckpt: dict[str, dict[str, list[tuple[str, str | None]]]] = {}

    def create_run(self, run: SyncRun) -> bool:
        self.runs[run.run_id] = run.model_copy(deep=True)
        return True

    def get_run(self, tenant_id: str, run_id: str) -> SyncRun | None:
        found = self.runs.get(run_id)
        return found.model_copy(deep=True) if found else None

    def save_run(self, run: SyncRun) -> None:
        self.runs[run.run_id] = run.model_copy(deep=True)

    def add_checkpoint(self, tenant_id: str, run_id: str, seq: str, seen: Any) -> None:
        self.ckpt.setdefault(run_id, {})[seq] = list(seen)

    def checkpoints(self, tenant_id: str, run_id: str) -> dict[str, Any]:
        return self.ckpt.get(run_id, {})

    def put_quarantine(self, *a: Any, **k: Any) -> None: ...
    def get_cursor(self, *a: Any) -> None: ...
    def put_cursor(self, *a: Any) -> None: ...


class SyntheticSource:
    """N products; ``bump`` changes the price of every 100th (1%)."""

    source = "bench"

    def __init__(self, n: int) -> None:
        self.n = n
        self.version = 0
        self.changed_every = 0

    def record(self, i: int) -> dict[str, Any]:
        price = 10 + (i % 500) / 10
        if self.changed_every and i % self.changed_every == 0:
            price += self.version
        return {
            "source_id": str(i),
            "sku": f"SKU-{i}",
            "name": f"Produto {i}",
            "price": price,
            "category": f"Cat {i % 40}",
            "stock": i % 17,
            "available": True,
        }

    def read_page(
        self, *, mode: Literal["incremental", "full"], page: int, since: datetime | None
    ) -> SourcePage:
        start = (page - 1) * PAGE
        end = min(start + PAGE, self.n)
        return SourcePage(
            records=[self.record(i) for i in range(start, end)], has_more=end < self.n
        )


def _rss_kib() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * (os.sysconf("SC_PAGE_SIZE") // 1024)


def _peak_in_child(action: Callable[[], Mapping[str, Any]]) -> float:
    """Peak resident memory the action adds, measured in a forked copy of this process (so
    neither tracemalloc's slowdown nor earlier runs' peaks distort it). MiB."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run, report, leave without cleanup
        os.close(read)
        before = _rss_kib()
        action()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        os.write(write, str(max(peak - before, 0)).encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read) as pipe:
        kib = int(pipe.read() or 0)
    os.waitpid(pid, 0)
    return kib / 1024


def measure(label: str, action: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
    peak = _peak_in_child(action)
    gc.collect()
    started = time.perf_counter()
    extra = action()
    seconds = time.perf_counter() - started
    return {"label": label, "seconds": seconds, "peak_mib": peak, **extra}


def bench(n: int, backend: str) -> None:
    source = SyntheticSource(n)
    run_ids = iter(f"bench-{i}" for i in range(1_000))
    if backend == "moto":
        resources = create_resources(prefix="bench")
        table = resources.tables["main"]
        from atende_shared.dal.tenants import tenant_store

        tenant_store(table).create_tenant(Tenant(tenant_id=TENANT, name="Bench"))
        runs: Any = DynamoRunRepository(table)

        def catalog(rewrite_all: bool = False) -> Any:
            return CountingCatalog(table, rewrite_all=rewrite_all)
    else:
        store: dict[str, dict[str, Any]] = {}
        runs = MemoryRuns()

        def catalog(rewrite_all: bool = False) -> Any:
            return MemoryCatalog(store, rewrite_all=rewrite_all)

    def run(repo: Any) -> dict[str, Any]:
        engine = CatalogEngine(
            catalog=repo, runs=runs, events=None, config=EngineConfig(mass_delete_min=n)
        )
        sync_run = SyncRun(
            tenant_id=TENANT, run_id=next(run_ids), source="bench", mode=SyncMode.FULL
        )
        runs.create_run(sync_run)
        engine.run_pull(TENANT, sync_run.run_id, source)
        done = runs.get_run(TENANT, sync_run.run_id)
        assert done is not None
        return {"writes": repo.writes, "counts": done.counts.model_dump()}

    first = measure("first mirror (all new)", lambda: run(catalog()))
    source.version, source.changed_every = 1, 100
    diff = measure("re-sync, 1% changed", lambda: run(catalog()))
    changes = diff["counts"]["updated"] + diff["counts"]["created"] + diff["counts"]["deleted"]
    source.version = 2
    baseline = measure("baseline: rewrite everything", lambda: run(catalog(rewrite_all=True)))

    assert diff["writes"] == changes == n // 100, (diff["writes"], changes)
    print(f"sync bench: N = {n:,} items, pages of {PAGE}, backend {backend}")
    for row in (first, diff, baseline):
        print(
            f"  {row['label']:<32} {row['seconds']:8.2f} s  peak {row['peak_mib']:7.1f} MiB"
            f"  item writes {row['writes']:>8,}"
        )
    print(f"  writes issued by the 1% re-sync == changes: {diff['writes']:,} == {changes:,}")
    print(
        f"  re-sync vs rewrite-everything: {baseline['seconds'] / diff['seconds']:.2f}x the speed,"
        f" {baseline['writes'] / max(diff['writes'], 1):.0f}x fewer writes,"
        f" peak memory {diff['peak_mib']:.1f} vs {baseline['peak_mib']:.1f} MiB"
    )


def main() -> None:
    """N from ``ATENDE_BENCH_SYNC_N``; backend ``memory`` (the engine and item conversion,
    default) or ``moto`` (the real DynamoDB DAL on moto, ~100x slower per write)."""
    n = int(os.environ.get("ATENDE_BENCH_SYNC_N", "100000"))
    backend = os.environ.get("ATENDE_BENCH_SYNC_BACKEND", "memory")
    if backend == "moto":
        with mock_aws():
            reset_clients()
            bench(n, backend)
    else:
        bench(n, backend)


if __name__ == "__main__":
    main()
