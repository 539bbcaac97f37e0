"""Functions: the shared layer and one Lambda per declared FunctionSpec.

The Lambda defaults (runtime, arm64, JSON logs, tracing, Powertools environment, log
retention) live in :func:`lambda_defaults`, the single place they are decided. Access
(env vars + IAM) and triggers are bound by the stack, which sees every resource.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from functions.wiring_model import FunctionSpec
from infra_cdk import constants
from infra_cdk.assets import LambdaSources

#: The runtime and architecture every function and the layer use (see constants).
LAMBDA_RUNTIME: lambda_.Runtime = getattr(
    lambda_.Runtime, f"PYTHON_{constants.LAMBDA_PYTHON_VERSION.replace('.', '_')}"
)
LAMBDA_ARCHITECTURE = lambda_.Architecture.ARM_64


def lambda_defaults(
    *,
    spec: FunctionSpec,
    stage: str,
    use_reserved_concurrency: bool,
    trace_subsegments: bool = True,
) -> dict[str, Any]:
    """Keyword arguments every Atende function shares, filled in from its spec."""
    environment = {
        "ATENDE_STAGE": stage,
        "POWERTOOLS_SERVICE_NAME": spec.name,
        "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
    }
    if not trace_subsegments:
        # Active tracing stays: Lambda records each invocation without the SDK.
        environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    return {
        "function_name": constants.physical_name(stage, spec.name),
        "description": spec.description,
        "runtime": LAMBDA_RUNTIME,
        "architecture": LAMBDA_ARCHITECTURE,
        "handler": spec.handler,
        "memory_size": spec.memory_mb,
        "timeout": Duration.seconds(spec.timeout_seconds),
        "reserved_concurrent_executions": (
            spec.reserved_concurrency if use_reserved_concurrency else None
        ),
        "tracing": lambda_.Tracing.ACTIVE,
        "logging_format": lambda_.LoggingFormat.JSON,
        "application_log_level_v2": lambda_.ApplicationLogLevel.INFO,
        "system_log_level_v2": lambda_.SystemLogLevel.WARN,
        "environment": environment,
    }


class Functions(Construct):
    """The layer and the functions; ``functions[name]`` and ``log_groups[name]``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        specs: tuple[FunctionSpec, ...],
        sources: LambdaSources,
        log_retention: logs.RetentionDays,
        use_reserved_concurrency: bool,
        trace_subsegments: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.layer = lambda_.LayerVersion(
            self,
            "SharedLayer",
            layer_version_name=constants.physical_name(stage, "shared"),
            description="atende_shared and the Lambda runtime dependencies (arm64).",
            code=lambda_.Code.from_asset(str(sources.layer)),
            compatible_runtimes=[LAMBDA_RUNTIME],
            compatible_architectures=[LAMBDA_ARCHITECTURE],
            removal_policy=RemovalPolicy.RETAIN,
        )
        codes = {
            domain: lambda_.Code.from_asset(str(path)) for domain, path in sources.functions.items()
        }
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        for spec in specs:
            log_group = logs.LogGroup(
                self,
                f"{_pascal(spec.name)}Logs",
                log_group_name=f"/aws/lambda/{constants.physical_name(stage, spec.name)}",
                retention=log_retention,
                removal_policy=RemovalPolicy.DESTROY,
            )
            self.log_groups[spec.name] = log_group
            self.functions[spec.name] = lambda_.Function(
                self,
                _pascal(spec.name),
                code=codes[spec.domain],
                layers=[self.layer],
                log_group=log_group,
                **lambda_defaults(
                    spec=spec,
                    stage=stage,
                    use_reserved_concurrency=use_reserved_concurrency,
                    trace_subsegments=trace_subsegments,
                ),
            )


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("-"))
