"""In-process Lambda runtime: lazy handler imports and a faithful context object.

Moto cannot invoke Lambda without Docker, so the local platform calls each declared
handler in this process. A handler module that does not import (another domain still
being written, a syntax error) is reported as broken instead of taking the platform down.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from functions.wiring_model import FunctionSpec

Handler = Callable[[Any, Any], Any]

LOCAL_ACCOUNT_ID = "000000000000"
LOCAL_REGION = "us-east-1"


@dataclass
class LambdaContext:
    """The attributes and method of the Lambda Python context that handlers use."""

    function_name: str
    memory_limit_in_mb: int
    timeout_seconds: int
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    region: str = LOCAL_REGION
    _deadline: float = field(default=0.0, repr=False)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{LOCAL_ACCOUNT_ID}:function:{self.function_name}"

    @property
    def log_group_name(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def log_stream_name(self) -> str:
        return f"local/[{self.function_version}]{self.aws_request_id[:8]}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def context_for(spec: FunctionSpec, prefix: str = "atende-local") -> LambdaContext:
    """A fresh context for one invocation of ``spec``."""
    return LambdaContext(
        function_name=f"{prefix}-{spec.name}",
        memory_limit_in_mb=spec.memory_mb,
        timeout_seconds=spec.timeout_seconds,
    )


@dataclass
class FunctionState:
    """Whether a function's handler imported, and why not."""

    name: str
    handler: str
    importable: bool = False
    error: str | None = None


class InvocationTimeout(Exception):
    """The handler could not start within its timeout: another invocation held the
    runtime that long (Lambda would have throttled or timed out)."""


class _OneAtATime:
    """A handler behind the runtime's lock: one invocation runs at a time, platform-wide.

    In AWS every function has its own process, so process-wide state is private to one
    invocation: the shared Powertools ``logger`` (correlation id, function name), the
    ``metrics`` set flushed after each invocation, a resolver's ``current_event``, a
    ``BatchProcessor``'s records. Here all functions share one process; running them one
    at a time keeps every log line, metric and module-level object with its own
    invocation. Waiting longer than the function's timeout raises
    :class:`InvocationTimeout` (no deadlock if a handler ever calls the gateway itself).
    """

    def __init__(self, handler: Handler, lock: threading.Lock, timeout_seconds: float) -> None:
        self._handler = handler
        self._lock = lock
        self._timeout = timeout_seconds

    def __call__(self, event: Any, context: Any) -> Any:
        if not self._lock.acquire(timeout=self._timeout):
            raise InvocationTimeout(
                f"another invocation held the local runtime for over {self._timeout:.0f} s"
            )
        try:
            return self._handler(event, context)
        finally:
            self._lock.release()


class FunctionRegistry:
    """Imports each function's handler on first use; remembers failures for /health.

    A failed import is retried on the next use (the module may have been fixed since),
    so a platform started before a domain was ready picks it up without a restart. The
    handlers it returns run one invocation at a time (see :class:`_OneAtATime`).
    """

    def __init__(self, specs: tuple[FunctionSpec, ...] | list[FunctionSpec]) -> None:
        self.specs: dict[str, FunctionSpec] = {s.name: s for s in specs}
        self._handlers: dict[str, Handler] = {}
        self._states: dict[str, FunctionState] = {
            s.name: FunctionState(name=s.name, handler=s.handler) for s in specs
        }
        self._overrides: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._invocation_lock = threading.Lock()

    def override(self, name: str, handler: Handler) -> None:
        """Use ``handler`` for function ``name`` (tests inject consumers this way)."""
        self._overrides[name] = self._serialised(name, handler)

    def _serialised(self, name: str, handler: Handler) -> Handler:
        return _OneAtATime(handler, self._invocation_lock, self.specs[name].timeout_seconds)

    def load(self, name: str) -> Handler:
        """The handler of function ``name``; raises :class:`HandlerUnavailable` if broken."""
        if name in self._overrides:
            return self._overrides[name]
        handler = self._handlers.get(name)
        if handler is not None:
            return handler
        spec = self.specs[name]
        with self._lock:
            state = self._states[name]
            try:
                module = importlib.import_module(spec.module)
                candidate = getattr(module, spec.attribute)
                if not callable(candidate):
                    raise TypeError(f"{spec.handler} is not callable")
            except Exception as exc:  # any import-time failure must not crash the platform
                state.importable = False
                state.error = f"{type(exc).__name__}: {exc}"
                raise HandlerUnavailable(name, state.error) from exc
            state.importable = True
            state.error = None
            wrapped = self._serialised(name, candidate)
            self._handlers[name] = wrapped
            return wrapped

    def module(self, name: str) -> Any:
        """The imported handler module of ``name`` (after a successful :meth:`load`)."""
        self.load(name)
        return importlib.import_module(self.specs[name].module)

    def load_all(self) -> dict[str, FunctionState]:
        """Try every handler once (start-up) and return the states."""
        for name in self.specs:
            with contextlib.suppress(HandlerUnavailable):
                self.load(name)
        return self.states()

    def states(self) -> dict[str, FunctionState]:
        return dict(self._states)


class HandlerUnavailable(Exception):
    """A function's handler could not be imported."""

    def __init__(self, function: str, reason: str) -> None:
        super().__init__(f"function {function!r} is unavailable: {reason}")
        self.function = function
        self.reason = reason


def format_exception(exc: BaseException) -> str:
    """One-line summary plus the traceback, for logs."""
    return "".join(traceback.format_exception(exc)).strip()
