"""Voice network: the VPC the voice workloads share and their ECS cluster.

Cost choices: no NAT gateway by default (public subnets with public IPs for the workloads
that must reach the internet anyway; security groups admit no inbound traffic to the
agent), free gateway endpoints for S3 and DynamoDB, interface endpoints on request.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra_cdk import constants
from infra_cdk.config import DeploymentConfig


def container_logs(scope: Construct, prefix: str, retention: logs.RetentionDays) -> ecs.LogDriver:
    """awslogs into a log group of the container's own, with the stage's retention."""
    return ecs.LogDrivers.aws_logs(
        stream_prefix=prefix,
        log_group=logs.LogGroup(
            scope,
            f"{prefix.capitalize()}Logs",
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
        ),
    )


class VoiceNetwork(Construct):
    """``vpc`` (public + private subnets, flow logs of rejected traffic, endpoints) and
    ``cluster`` (the ECS cluster both LiveKit hosts and the agent run in)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._log_retention = log_retention
        self.vpc = self._vpc()
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=constants.physical_name(config.stage, constants.VOICE_CLUSTER),
            vpc=self.vpc,
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )

    def _vpc(self) -> ec2.Vpc:
        nat = self._config.enable_nat
        vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=constants.physical_name(self._config.stage, "voice"),
            ip_addresses=ec2.IpAddresses.cidr(constants.VPC_CIDR),
            max_azs=2,
            nat_gateways=1 if nat else 0,
            restrict_default_security_group=False,  # would add a custom-resource Lambda
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24
                ),
                ec2.SubnetConfiguration(
                    name="private",
                    subnet_type=(
                        ec2.SubnetType.PRIVATE_WITH_EGRESS
                        if nat
                        else ec2.SubnetType.PRIVATE_ISOLATED
                    ),
                    cidr_mask=24,
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3),
                "DynamoDb": ec2.GatewayVpcEndpointOptions(
                    service=ec2.GatewayVpcEndpointAwsService.DYNAMODB
                ),
            },
        )
        vpc.add_flow_log(
            "RejectedFlows",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                logs.LogGroup(
                    self,
                    "FlowLogs",
                    retention=self._log_retention,
                    removal_policy=RemovalPolicy.DESTROY,
                )
            ),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        if self._config.use_interface_endpoints:
            # ~7 USD/month per endpoint and AZ: worth it once private tasks pull images
            # and ship logs through a NAT gateway, not before.
            endpoints_group = ec2.SecurityGroup(
                self,
                "EndpointsSg",
                vpc=vpc,
                description="Interface endpoints: HTTPS from inside the VPC.",
                allow_all_outbound=False,
            )
            endpoints_group.add_ingress_rule(
                ec2.Peer.ipv4(constants.VPC_CIDR), ec2.Port.tcp(443), "HTTPS from the VPC"
            )
            for name, service in (
                ("EcrApi", ec2.InterfaceVpcEndpointAwsService.ECR),
                ("EcrDocker", ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER),
                ("Logs", ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS),
                ("Secrets", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
                ("Events", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE),
                ("Sqs", ec2.InterfaceVpcEndpointAwsService.SQS),
            ):
                vpc.add_interface_endpoint(
                    name,
                    service=service,
                    private_dns_enabled=True,
                    security_groups=[endpoints_group],
                    open=False,
                )
        return vpc
