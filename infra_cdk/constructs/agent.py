"""The voice agent: the LiveKit agent worker (``voice_fargate``) as a Fargate service on
arm64, scaled on CPU, draining live calls on stop. What it may touch (tables, bucket,
events, LiveKit keys) is declared in the wiring (``functions.wiring.AGENT``) and bound by
the stack, like every function's access.
"""

from __future__ import annotations

from aws_cdk import Duration, IgnoreMode
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra_cdk import constants
from infra_cdk.config import DeploymentConfig
from infra_cdk.constructs.network import container_logs

_AGENT_CONTAINER = "agent"


class AgentService(Construct):
    """Exposes ``task_definition``, ``container`` and ``service``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        vpc: ec2.IVpc,
        cluster: ecs.Cluster,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._log_retention = log_retention
        self.vpc = vpc
        self.cluster = cluster
        stage = config.stage
        self.openai_secret = secretsmanager.Secret.from_secret_name_v2(
            self, "OpenAiKey", constants.secret_name(stage, constants.OPENAI_SECRET)
        )
        self.deepgram_secret = secretsmanager.Secret.from_secret_name_v2(
            self, "DeepgramKey", constants.secret_name(stage, constants.DEEPGRAM_SECRET)
        )
        self.task_definition, self.container, self.service = self._agent()

    def _agent(
        self,
    ) -> tuple[ecs.FargateTaskDefinition, ecs.ContainerDefinition, ecs.FargateService]:
        config = self._config
        task = ecs.FargateTaskDefinition(
            self,
            "AgentTask",
            cpu=config.agent_cpu,
            memory_limit_mib=config.agent_memory_mib,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
        )
        container = task.add_container(
            _AGENT_CONTAINER,
            image=ecs.ContainerImage.from_asset(
                str(constants.REPO_ROOT),
                file=constants.AGENT_DOCKERFILE,
                exclude=list(constants.docker_context_excludes()),
                ignore_mode=IgnoreMode.DOCKER,
                platform=ecr_assets.Platform.LINUX_ARM64,
            ),
            essential=True,
            environment={
                "ATENDE_STAGE": config.stage,
                "POWERTOOLS_SERVICE_NAME": "voice-agent",
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
            },
            # The LiveKit keys are added by the stack from the wiring (access.livekit).
            secrets={
                "OPENAI_API_KEY": ecs.Secret.from_secrets_manager(self.openai_secret),
                "DEEPGRAM_API_KEY": ecs.Secret.from_secrets_manager(self.deepgram_secret),
            },
            logging=container_logs(self, "agent", self._log_retention),
            # SIGTERM drains: the worker takes no new jobs and lets live calls finish.
            stop_timeout=Duration.seconds(constants.AGENT_STOP_TIMEOUT_SECONDS),
            health_check=ecs.HealthCheck(
                command=[
                    "CMD",
                    "python",
                    "-c",
                    "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8081/',timeout=2)",
                ],
                interval=Duration.seconds(15),
                timeout=Duration.seconds(5),
                start_period=Duration.seconds(60),
                retries=3,
            ),
        )
        group = ec2.SecurityGroup(
            self,
            "AgentSg",
            vpc=self.vpc,
            description="Voice agent: outbound only (LiveKit, AI providers, AWS APIs).",
            allow_all_outbound=True,
        )
        service = ecs.FargateService(
            self,
            "Agent",
            cluster=self.cluster,
            task_definition=task,
            desired_count=config.agent_min_tasks,
            min_healthy_percent=100,
            max_healthy_percent=200,
            security_groups=[group],
            # Without a NAT gateway the agent reaches the internet from a public subnet;
            # its security group still admits nothing inbound.
            assign_public_ip=not config.enable_nat,
            vpc_subnets=ec2.SubnetSelection(
                subnet_type=(
                    ec2.SubnetType.PRIVATE_WITH_EGRESS
                    if config.enable_nat
                    else ec2.SubnetType.PUBLIC
                )
            ),
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            enable_execute_command=False,
        )
        scaling = service.auto_scale_task_count(
            min_capacity=config.agent_min_tasks, max_capacity=config.agent_max_tasks
        )
        scaling.scale_on_cpu_utilization(
            "Cpu",
            target_utilization_percent=50,
            scale_out_cooldown=Duration.seconds(60),
            scale_in_cooldown=Duration.minutes(10),
        )
        return task, container, service
