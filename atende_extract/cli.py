"""``atende-extract --config extract.toml``: read, map, push in batches, complete."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from atende_extract.config import ExtractConfig, load_config
from atende_extract.pusher import Pusher, PushFailed, RunState
from atende_extract.sources import map_row, rows


def extract(
    config: ExtractConfig,
    *,
    http: httpx.Client | None = None,
    fresh: bool = False,
    **pusher_kw: Any,
) -> dict[str, Any]:
    """Push one snapshot (resuming an unfinished one unless ``fresh``); returns a summary."""
    state_path = Path(config.state_file)
    state = None if fresh else RunState.load(state_path)
    if state is None or state.completed:
        state = RunState.new()
        state.save(state_path)
    records = sorted((map_row(r, config) for r in rows(config)), key=lambda r: str(r["source_id"]))
    # Resume by record, not by batch number: rows added or removed since the crash still
    # land in the snapshot exactly once (the server ignores re-sent batch ids).
    sent = set(state.sent_ids)
    pending = [r for r in records if str(r["source_id"]) not in sent]
    client = http or httpx.Client(base_url=config.target.url, timeout=config.target.timeout_seconds)
    pusher = Pusher(
        client,
        tenant_id=config.target.tenant_id,
        stream=config.target.stream,
        token=config.target.resolved_token(),
        max_attempts=config.target.max_attempts,
        **pusher_kw,
    )
    size = config.target.batch_size
    for start in range(0, len(pending), size):
        chunk = pending[start : start + size]
        batch_id = f"b{state.next_batch:06d}"
        pusher.batch(state.snapshot_id, batch_id, chunk)
        state.next_batch += 1
        state.batches += 1
        state.sent_ids.extend(str(r["source_id"]) for r in chunk)
        state.save(state_path)
    answer = pusher.complete(state.snapshot_id, state.batches)
    state.completed = True
    state.save(state_path)
    return {
        "snapshot_id": state.snapshot_id,
        "records": len(records),
        "sent_now": len(pending),
        "batches": state.batches,
        "run_id": answer.get("run_id"),
        "http_attempts": pusher.attempts,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="atende-extract", description="Push a catalog snapshot to Atende."
    )
    parser.add_argument("--config", required=True, help="TOML or JSON config file")
    parser.add_argument("--fresh", action="store_true", help="start a new snapshot")
    parser.add_argument("--dry-run", action="store_true", help="print mapped records only")
    args = parser.parse_args(argv)
    config = load_config(args.config)
    if args.dry_run:
        for row in rows(config):
            print(json.dumps(map_row(row, config), ensure_ascii=False, default=str))
        return 0
    try:
        summary = extract(config, fresh=args.fresh)
    except PushFailed as exc:
        print(f"atende-extract: {exc} (run again to resume)", file=sys.stderr)
        return 2
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
