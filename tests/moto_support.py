"""Test support for moto shared by every suite (and the billing bench)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serialised_moto_requests() -> Iterator[None]:
    """Make each moto request atomic, as each DynamoDB request is in AWS.

    moto's in-process backend is not thread-safe (a query can iterate a dict another
    thread's put is growing). Real DynamoDB serialises nothing *between* requests, and
    neither does this: threads still interleave their reads and conditional commits, so a
    lost update would still show. It only stops the emulator corrupting itself."""
    from moto.core.botocore_stubber import BotocoreStubber

    lock = threading.RLock()
    original = BotocoreStubber.__call__

    def locked(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
