"""Powertools Logger, Metrics and Tracer, set up once, and correlation-id plumbing.

A correlation id is born at the edge (the API Gateway request id, or an incoming
``X-Correlation-Id``), travels in the event envelope, as the SQS message attribute
``correlation_id`` and in every EventBridge detail, and is bound to the logger by each
consumer per record, so one id follows an event from webhook to the last consumer.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from functools import cache, wraps
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.shared.functions import resolve_truthy_env_var_choice
from pydantic_settings import BaseSettings

from atende_shared.settings import load_settings

__all__ = [
    "CORRELATION_ATTRIBUTE",
    "CORRELATION_HEADER",
    "MetricUnit",
    "bind_correlation_id",
    "correlation_id_from_sqs_record",
    "instrumented",
    "logger",
    "metrics",
    "tracer",
    "tracing_enabled",
]

METRICS_NAMESPACE = "Atende"
CORRELATION_HEADER = "x-correlation-id"
CORRELATION_ATTRIBUTE = "correlation_id"

# The Powertools idiom: one instance per process. Construction only reads the standard
# POWERTOOLS_* variables (service name = the function's name, log level); it does no I/O.
logger = Logger(use_rfc3339=True)
metrics = Metrics(namespace=METRICS_NAMESPACE)


def tracing_enabled() -> bool:
    """Powertools' rule for when X-Ray is used: inside Lambda, and unless
    ``POWERTOOLS_TRACE_DISABLED`` (the CDK sets it when ``traceSubsegments=false``)."""
    if resolve_truthy_env_var_choice(env=os.getenv("POWERTOOLS_TRACE_DISABLED", "false")):
        return False
    return "AWS_LAMBDA_FUNCTION_NAME" in os.environ and "AWS_SAM_LOCAL" not in os.environ


@cache
def tracer() -> Tracer:
    """The process's Tracer, built on first use: building one loads the X-Ray SDK (~0.1 s
    of a webhook cold start, see bench_webhooks), so it is built only where tracing is on.

    Powertools' default (``patch_all``) imports every library X-Ray can trace that is
    installed, to patch it: in the layer that is pymongo and httpx (~0.15 s) in every
    function, used or not. Each library is patched instead when the function imports it
    (at once if it already has), so every call is still traced."""
    built = Tracer(auto_patch=False)
    if not built.disabled:
        _trace_libraries_when_imported()
    return built


#: X-Ray's patch names whose importable module has another name.
_XRAY_MODULES = {"sqlalchemy_core": "sqlalchemy", "mysql": "mysql.connector"}


def _trace_libraries_when_imported() -> None:
    """``patch_all()``'s libraries (the X-Ray SDK's own list), each patched once it is
    imported: a post-import hook (wrapt, which the SDK already loads) for the others."""
    import wrapt
    from aws_xray_sdk.core import patch
    from aws_xray_sdk.core.patcher import NO_DOUBLE_PATCH

    def patcher(name: str) -> Callable[[object], None]:
        def patch_on_import(_module: object) -> None:
            patch([name], raise_errors=False)

        return patch_on_import

    for name in NO_DOUBLE_PATCH:
        module = _XRAY_MODULES.get(name, name)
        if module in sys.modules:
            patch([name], raise_errors=False)
        else:
            wrapt.register_post_import_hook(patcher(name), module)


F = TypeVar("F", bound=Callable[..., Any])


def bind_correlation_id(correlation_id: str | None) -> None:
    """Make ``correlation_id`` appear on every following log line of this invocation."""
    logger.set_correlation_id(correlation_id)


def correlation_id_from_sqs_record(record: Mapping[str, Any]) -> str | None:
    """Read the correlation id a producer attached to an SQS message (raw event dict)."""
    attributes = record.get("messageAttributes") or {}
    attribute = attributes.get(CORRELATION_ATTRIBUTE) or {}
    value = attribute.get("stringValue")
    return value if isinstance(value, str) and value else None


def instrumented(
    settings_model: type[BaseSettings] | None = None,
    *,
    correlation_id_path: str | None = None,
    capture_response: bool = False,
) -> Callable[[F], F]:
    """The fixed decorator stack every Lambda entry point wears.

    Order: validate the env model (fails the cold start loudly) → logger with Lambda
    context and correlation id → metrics flushed as EMF (cold-start metric included) →
    X-Ray tracing, only where :func:`tracing_enabled` (elsewhere the SDK is never loaded).
    """

    def decorate(handler: F) -> F:
        traced = (
            tracer().capture_lambda_handler(capture_response=capture_response)(handler)
            if tracing_enabled()
            else handler
        )
        measured = metrics.log_metrics(capture_cold_start_metric=True)(traced)
        logged = logger.inject_lambda_context(
            correlation_id_path=correlation_id_path, clear_state=True
        )(measured)

        @wraps(handler)
        def entry(event: Any, context: Any) -> Any:
            if settings_model is not None:
                load_settings(settings_model)
            return logged(event, context)

        return entry  # type: ignore[return-value]

    return decorate
