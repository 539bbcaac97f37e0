"""Powertools Logger, Metrics and Tracer, set up once, and correlation-id plumbing.

A correlation id is born at the edge (the API Gateway request id, or an incoming
``X-Correlation-Id``), travels in the event envelope, as the SQS message attribute
``correlation_id`` and in every EventBridge detail, and is bound to the logger by each
consumer per record, so one id follows an event from webhook to the last consumer.
"""

from __future__ import annotations

import os
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
    of a webhook cold start, see bench_webhooks), so it is built only where tracing is on."""
    return Tracer()


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
