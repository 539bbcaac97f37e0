"""The Atende stack: composes one construct per concern and binds the declared wiring
(environment, IAM grants, triggers) between them. Grants live here, where both sides of
every permission are visible."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_cdk import ArnFormat, Duration, NestedStack, Stack
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from atende_shared.http import TENANT_ROUTES_ENV
from atende_shared.pagination import CURSOR_KEY_SECRET_ENV
from atende_shared.resources import (
    EVENT_BUS_ENV,
    bucket_env,
    queue_url_env,
    table_env,
)
from functions.wiring import AGENT, BUCKETS, FUNCTIONS, QUEUES, TABLES
from functions.wiring_model import Access, FunctionSpec, QueueTrigger, tenant_routes_env
from infra_cdk import constants
from infra_cdk.assets import LambdaSources
from infra_cdk.config import DeploymentConfig
from infra_cdk.constructs.agent import AgentService
from infra_cdk.constructs.api import Api
from infra_cdk.constructs.console import Console, TenantApi
from infra_cdk.constructs.functions import Functions
from infra_cdk.constructs.livekit import LiveKitNodes
from infra_cdk.constructs.messaging import Messaging
from infra_cdk.constructs.monitoring import Monitoring
from infra_cdk.constructs.network import VoiceNetwork
from infra_cdk.constructs.state import State
from infra_cdk.nag import acknowledge_findings


class AtendeStack(Stack):
    """State, messaging, functions, API, the voice network, LiveKit nodes, the agent
    service and monitoring for one stage."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        sources: LambdaSources,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.config = config
        self.functions_specs = FUNCTIONS
        #: "METHOD /path" of every route without an API Gateway authorizer.
        self.public_route_keys = frozenset(
            f"{r.method} {r.path}" for s in FUNCTIONS for r in s.routes if r.auth != "admin"
        )
        stage = config.stage
        retention = _retention(config.log_retention_days)

        self.state = State(self, "State", stage=stage, tables=TABLES, buckets=BUCKETS)
        self.messaging = Messaging(self, "Messaging", stage=stage, queues=QUEUES)
        self.functions = Functions(
            self,
            "Functions",
            stage=stage,
            specs=FUNCTIONS,
            sources=sources,
            log_retention=retention,
            use_reserved_concurrency=config.reserved_concurrency,
            trace_subsegments=config.trace_subsegments,
        )
        self.console = Console(self, "Console", stage=stage)
        self.api = Api(
            self,
            "Api",
            stage=stage,
            routes=[
                (route, self.functions.functions[spec.name])
                for spec in FUNCTIONS
                for route in spec.routes
            ],
            rate_limit=config.api_rate_limit,
            burst_limit=config.api_burst_limit,
            max_body_kib=config.waf_max_body_kib,
            rate_limit_per_path=config.waf_rate_limit_per_path,
            rate_limit_per_ip=config.waf_rate_limit_per_ip,
            log_retention=retention,
        )
        # The console's site in a nested stack: the main stack is near CloudFormation's
        # 500-resource cap.
        self.tenant_api = TenantApi(
            self,
            "TenantApi",
            stage=stage,
            api=self.api.api,
            user_pool=self.console.user_pool,
            routes=[
                (route, self.functions.functions[spec.name])
                for spec in FUNCTIONS
                for route in spec.routes
                if route.tenant_roles
            ],
        )
        self.console_site = NestedStack(self, "ConsoleSite")
        self.console.add_site(self.console_site, self.api.api, logs_bucket=self.state.access_logs)
        self.network = VoiceNetwork(self, "Network", config=config, log_retention=retention)
        self.livekit = LiveKitNodes(
            self,
            "LiveKit",
            config=config,
            vpc=self.network.vpc,
            cluster=self.network.cluster,
            webhook_url=self.api.api.url_for_path("/webhooks/livekit"),
            access_logs=self.state.access_logs,
            log_retention=retention,
        )
        self.agent = AgentService(
            self,
            "Agent",
            config=config,
            vpc=self.network.vpc,
            cluster=self.network.cluster,
            log_retention=retention,
        )
        #: Scheduled invocations that failed every retry (or could not be delivered).
        self.schedule_failures = self.messaging.schedule_failures_queue(stage)
        for spec in FUNCTIONS:
            function = self.functions.functions[spec.name]
            self._bind_access(spec.access, function, function.add_environment)
            tenant_routes = tenant_routes_env([spec])
            if tenant_routes:  # the routes restaurant users may call (atende_shared.http)
                function.add_environment(TENANT_ROUTES_ENV, tenant_routes)
            self._bind_triggers(spec, function)
            if any(route.auth == "admin" for route in spec.routes):
                # Admin APIs answer lists with signed cursors (atende_shared.pagination).
                function.add_environment(CURSOR_KEY_SECRET_ENV, self.state.cursor_key.secret_arn)
                self.state.cursor_key.grant_read(function)
        self._bind_agent()
        self.monitoring = Monitoring(
            self,
            "Monitoring",
            stage=stage,
            api=self.api.api,
            functions=self.functions.functions,
            queues=self.messaging.queues,
            dlqs=self.messaging.dlqs,
            alarms=self.messaging.alarms,
            bus=self.messaging.bus,
            counted_events=self.messaging.counted_events,
            alarm_email=config.alarm_email,
        )
        acknowledge_findings(self)

    # -- wiring -> environment + IAM -------------------------------------------------------

    def _bind_access(
        self,
        access: Access,
        grantee: iam.IGrantable,
        set_env: Callable[[str, str], Any],
        *,
        container: ecs.ContainerDefinition | None = None,
    ) -> None:
        """Grant ``access`` (from the wiring) to ``grantee`` and name each resource in its
        environment: a function's, or the agent's (``container``)."""
        # A table's name only where `access` lists the table; permissions follow it exactly.
        for table, resource in self.state.tables.items():
            if table not in (*access.tables_read, *access.tables_write):
                continue
            set_env(table_env(table), resource.table_name)
            if table in access.tables_write:
                resource.grant_read_write_data(grantee)
            elif table in access.tables_read:
                resource.grant_read_data(grantee)
        for queue in access.sends_to:
            resource_q = self.messaging.queues[queue]
            set_env(queue_url_env(queue), resource_q.queue_url)
            resource_q.grant_send_messages(grantee)
        if access.publishes_events:
            set_env(EVENT_BUS_ENV, self.messaging.bus.event_bus_name)
            self.messaging.bus.grant_put_events_to(grantee)
        for bucket in dict.fromkeys((*access.bucket_read, *access.bucket_write)):
            resource_b = self.state.buckets[bucket]
            set_env(bucket_env(bucket), resource_b.bucket_name)
            if bucket in access.bucket_read:
                _grant_object_read(resource_b, grantee)
            if bucket in access.bucket_write:
                _grant_object_write(resource_b, grantee)
        principal = grantee.grant_principal
        if access.secret_prefixes:
            principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:GetSecretValue"],
                    resources=self._secret_arns(access.secret_prefixes),
                )
            )
        # Bling rotates the refresh token on every refresh: the new pair is stored before
        # use, so its refresher may write (never delete) exactly those secrets.
        if access.secret_writes:
            principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["secretsmanager:PutSecretValue", "secretsmanager:CreateSecret"],
                    resources=self._secret_name_arns(access.secret_writes),
                )
            )
        if access.tenant_users:
            # Invitations only: create and read users of the restaurant-user pool.
            set_env("ATENDE_TENANT_USER_POOL_ID", self.console.user_pool.user_pool_id)
            grantee.grant_principal.add_to_principal_policy(
                iam.PolicyStatement(
                    actions=["cognito-idp:AdminCreateUser", "cognito-idp:AdminGetUser"],
                    resources=[self.console.user_pool.user_pool_arn],
                )
            )
        if access.livekit:
            set_env("ATENDE_AGENT_NAME", constants.AGENT_NAME)
            if container is not None:
                # The worker connects over WebSocket; ECS injects the key pair at start.
                set_env("LIVEKIT_URL", f"wss://{self.config.livekit_host}")
                for name, ecs_secret in self.livekit.container_secrets().items():
                    container.add_secret(name, ecs_secret)
                return
            secret = self.livekit.livekit_secret
            set_env("LIVEKIT_URL", f"https://{self.config.livekit_host}")
            set_env("LIVEKIT_API_KEY", self.livekit.livekit_api_key)
            # Only where to read the secret: the function fetches it at first use (cached),
            # so the value never appears in the template or the function's configuration.
            set_env("LIVEKIT_API_SECRET_NAME", secret.secret_arn)
            secret.grant_read(grantee)

    def _secret_arns(self, prefixes: Sequence[str]) -> list[str]:
        """ARNs of every secret under each ``atende/<stage>/<prefix>/``."""
        return [
            self.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{constants.secret_name(self.config.stage, prefix)}/*",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for prefix in prefixes
        ]

    def _secret_name_arns(self, names: Sequence[str]) -> list[str]:
        """ARNs of the secrets ``atende/<stage>/<name>`` (Secrets Manager appends ``-`` and
        six random characters to every secret's ARN)."""
        return [
            self.format_arn(
                service="secretsmanager",
                resource="secret",
                resource_name=f"{constants.secret_name(self.config.stage, name)}-??????",
                arn_format=ArnFormat.COLON_RESOURCE_NAME,
            )
            for name in names
        ]

    def _bind_triggers(self, spec: FunctionSpec, function: lambda_.Function) -> None:
        for trigger in spec.queues:
            # Consumers dead-letter a poison message themselves, at once
            # (atende_shared.consumers): they may send to their queue's DLQ.
            self.messaging.dlqs[trigger.queue].grant_send_messages(function)
            function.add_event_source(
                sources.SqsEventSource(
                    self.messaging.queues[trigger.queue],
                    batch_size=trigger.batch_size,
                    max_batching_window=(
                        Duration.seconds(trigger.max_batching_window_seconds)
                        if trigger.max_batching_window_seconds
                        else None
                    ),
                    # Never more pollers than the function may run: a throttled receive
                    # counts toward maxReceiveCount and would push good messages to the DLQ.
                    max_concurrency=_event_source_concurrency(trigger, spec),
                    report_batch_item_failures=True,
                )
            )
        if spec.schedules:
            # Asynchronous invocations: retried, then (function error or too old) kept in
            # the schedule-failures queue instead of dropped.
            function.configure_async_invoke(
                retry_attempts=constants.SCHEDULE_RETRY_ATTEMPTS,
                max_event_age=Duration.seconds(constants.SCHEDULE_MAX_EVENT_AGE_SECONDS),
                on_failure=destinations.SqsDestination(self.schedule_failures),
            )
        for schedule in spec.schedules:
            events.Rule(
                self,
                f"Schedule-{spec.name}-{schedule.name}",
                rule_name=constants.physical_name(
                    self.config.stage, f"{spec.name}-{schedule.name}"
                ),
                description=f"{schedule.expression} -> {spec.name}",
                schedule=events.Schedule.expression(schedule.expression),
                targets=[
                    targets.LambdaFunction(
                        function,
                        event=events.RuleTargetInput.from_object(dict(schedule.payload)),
                        retry_attempts=constants.SCHEDULE_RETRY_ATTEMPTS,
                        # EventBridge could not invoke the function at all.
                        dead_letter_queue=self.schedule_failures,
                    )
                ],
            )

    def _bind_agent(self) -> None:
        """The voice agent's declared access (``functions.wiring.AGENT``), and scale-in
        protection of its own tasks while calls are live (PUT $ECS_AGENT_URI/task-protection)."""
        task = self.agent.task_definition
        container = self.agent.container
        self._bind_access(
            AGENT.access, task.task_role, container.add_environment, container=container
        )
        cluster = constants.physical_name(self.config.stage, constants.VOICE_CLUSTER)
        task.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["ecs:GetTaskProtection", "ecs:UpdateTaskProtection"],
                resources=[
                    self.format_arn(
                        service="ecs",
                        resource="task",
                        resource_name=f"{cluster}/*",
                    )
                ],
            )
        )


def _event_source_concurrency(trigger: QueueTrigger, spec: FunctionSpec) -> int | None:
    """The trigger's own limit, else the function's reserved concurrency (SQS event
    sources take 2..1000; below 2 the source's default of up to 1,000 applies)."""
    wanted = trigger.max_concurrency or spec.reserved_concurrency
    return wanted if wanted >= 2 else None


def _grant_object_read(bucket: s3.IBucket, grantee: iam.IGrantable) -> None:
    """Objects and their listing; no bucket configuration (``grant_read`` gives more)."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:GetObject"], resource_arns=[bucket.arn_for_objects("*")]
    )
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:ListBucket"], resource_arns=[bucket.bucket_arn]
    )


def _grant_object_write(bucket: s3.IBucket, grantee: iam.IGrantable) -> None:
    """Create/overwrite objects; no delete (lifecycle rules expire what must go)."""
    iam.Grant.add_to_principal(
        grantee=grantee, actions=["s3:PutObject"], resource_arns=[bucket.arn_for_objects("*")]
    )


def _retention(days: int) -> logs.RetentionDays:
    try:
        return getattr(logs.RetentionDays, _RETENTION_NAMES[days])
    except KeyError:
        raise ValueError(
            f"logRetentionDays {days} is not one of {sorted(_RETENTION_NAMES)}"
        ) from None


_RETENTION_NAMES = {
    1: "ONE_DAY",
    3: "THREE_DAYS",
    5: "FIVE_DAYS",
    7: "ONE_WEEK",
    14: "TWO_WEEKS",
    30: "ONE_MONTH",
    60: "TWO_MONTHS",
    90: "THREE_MONTHS",
    180: "SIX_MONTHS",
    365: "ONE_YEAR",
}
