"""Following a sync run: poll until it ends, describe its progress, give up on time."""

from __future__ import annotations

from typing import Any

import pytest

from atende_local.follow import describe, follow_run


class RunApi:
    def __init__(self, views: list[dict[str, Any]]) -> None:
        self.views = views
        self.paths: list[str] = []

    def request(self, method: str, path: str, payload: Any = None) -> Any:
        self.paths.append(path)
        return self.views[min(len(self.paths), len(self.views)) - 1]


def _view(status: str, pages: int, running: bool, **counts: int) -> dict[str, Any]:
    return {
        "status": status,
        "counts": counts,
        "progress": {
            "pages_read": pages,
            "records_read": counts.get("read", 0),
            "running": running,
        },
    }


def test_following_stops_at_the_first_finished_view():
    api = RunApi(
        [
            _view("queued", 0, True),
            _view("running", 2, True, read=200),
            _view("succeeded", 3, False, read=250, created=250),
            _view("succeeded", 3, False, read=250, created=250),
        ]
    )
    views = list(follow_run(api, "/runs/r1", sleep=lambda _s: None))
    assert [v["status"] for v in views] == ["queued", "running", "succeeded"]
    assert api.paths == ["/runs/r1"] * 3


def test_a_run_that_outlives_the_timeout_is_reported():
    api = RunApi([_view("running", 1, True, read=10)])
    ticks = iter(range(100))
    with pytest.raises(TimeoutError, match="still going"):
        list(
            follow_run(
                api, "/runs/r1", timeout_seconds=3, sleep=lambda _s: None, clock=lambda: next(ticks)
            )
        )


def test_the_status_line_names_work_done_and_nonzero_counts():
    line = describe(_view("running", 4, True, read=400, created=12, quarantined=1))
    assert line == "running · pages 4 · records 400 · created 12 · quarantined 1"
