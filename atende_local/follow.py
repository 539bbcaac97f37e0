"""Follow a sync run until it ends: the data behind ``atende sync ID --wait``.

Sources do not announce their size up front, so progress is work done (pages and records
read, and the counts so far), not a percentage. The poller is separate from its display
so it can be tested without a terminal.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any, Protocol


class AdminApi(Protocol):
    def request(self, method: str, path: str, payload: Any = None) -> Any: ...


def follow_run(
    api: AdminApi,
    run_path: str,
    *,
    poll_seconds: float = 1.0,
    timeout_seconds: float = 900.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[dict[str, Any]]:
    """Yield the run's view on every poll; stop after the first view that is not running
    (or raise ``TimeoutError`` when the run outlives ``timeout_seconds``)."""
    deadline = clock() + timeout_seconds
    while True:
        view = api.request("GET", run_path)
        yield view
        if not (view.get("progress") or {}).get("running", False):
            return
        if clock() >= deadline:
            raise TimeoutError(f"the run was still going after {timeout_seconds:.0f} s")
        sleep(poll_seconds)


def describe(view: dict[str, Any]) -> str:
    """One status line for a run view."""
    progress = view.get("progress") or {}
    counts = view.get("counts") or {}
    parts = [
        f"{view.get('status', '?')}",
        f"pages {progress.get('pages_read', 0)}",
        f"records {progress.get('records_read', counts.get('read', 0))}",
    ]
    parts += [
        f"{name} {counts[name]}"
        for name in ("created", "updated", "unchanged", "deleted", "quarantined")
        if counts.get(name)
    ]
    return " · ".join(parts)
