"""LiveKit nodes: livekit-server and livekit/sip on EC2 with host networking (they need a
stable public IP and thousands of UDP ports, which Fargate cannot give), the ElastiCache
Redis they share, their API keys, and the TLS load balancer in front of the API.

SIP and RTP are open only to the configured carrier CIDRs (see ``DeploymentConfig``);
WebRTC ICE is open to any client.
"""

from __future__ import annotations

import json
from typing import Any

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_autoscaling as autoscaling
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_elasticache as elasticache
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra_cdk import constants
from infra_cdk.config import DeploymentConfig
from infra_cdk.constructs.network import container_logs

_LIVEKIT_CONTAINER = "livekit-server"
_SIP_CONTAINER = "livekit-sip"


class LiveKitNodes(Construct):
    """Exposes ``livekit_secret`` and ``livekit_api_key``, ``node_security_group``,
    ``nodes`` (ASG), ``elastic_ips``, ``redis``, ``livekit_service``, ``sip_service``,
    ``load_balancer`` and ``load_balancer_security_group``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeploymentConfig,
        vpc: ec2.IVpc,
        cluster: ecs.Cluster,
        webhook_url: str,
        access_logs: s3.IBucket,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._log_retention = log_retention
        self._access_logs = access_logs
        self.vpc = vpc
        self.cluster = cluster
        stage = config.stage
        self.livekit_api_key = f"atende{stage}"
        self.livekit_secret = secretsmanager.Secret(
            self,
            "LiveKitKeys",
            secret_name=constants.secret_name(stage, constants.LIVEKIT_SECRET),
            description="LiveKit API key/secret shared by server, SIP, agent and Lambdas.",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                secret_string_template=json.dumps({"api_key": self.livekit_api_key}),
                generate_string_key="api_secret",
                exclude_punctuation=True,
                password_length=48,
            ),
        )
        self.node_security_group = self._node_security_group()
        self.redis = self._redis()
        self.nodes, self.elastic_ips = self._nodes()
        self.livekit_service = self._livekit_server(webhook_url)
        self.sip_service = self._sip()
        self.load_balancer = self._load_balancer()

    def container_secrets(self) -> dict[str, ecs.Secret]:
        """The LiveKit key pair as ECS secrets (injected at start, never in the template)."""
        return {
            "LIVEKIT_API_KEY": ecs.Secret.from_secrets_manager(self.livekit_secret, "api_key"),
            "LIVEKIT_API_SECRET": ecs.Secret.from_secrets_manager(
                self.livekit_secret, "api_secret"
            ),
        }

    def _node_security_group(self) -> ec2.SecurityGroup:
        group = ec2.SecurityGroup(
            self,
            "LiveKitNodeSg",
            vpc=self.vpc,
            description="LiveKit server + SIP hosts: SIP/RTP from carriers only, ICE open.",
            allow_all_outbound=True,
        )
        for cidr in self._config.carrier_cidrs:
            peer = ec2.Peer.ipv4(cidr)
            group.add_ingress_rule(peer, ec2.Port.udp(constants.SIP_PORT), "SIP (UDP) carrier")
            group.add_ingress_rule(peer, ec2.Port.tcp(constants.SIP_PORT), "SIP (TCP) carrier")
            group.add_ingress_rule(
                peer, ec2.Port.udp_range(*constants.RTP_RANGE), "RTP media from carrier"
            )
        # WebRTC clients connect from anywhere (browsers for test calls, the agent).
        group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.udp_range(*constants.LIVEKIT_ICE_UDP_RANGE), "ICE UDP"
        )
        group.add_ingress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(constants.LIVEKIT_ICE_TCP_PORT), "ICE TCP"
        )
        return group

    def _redis(self) -> elasticache.CfnReplicationGroup:
        group = ec2.SecurityGroup(
            self,
            "RedisSg",
            vpc=self.vpc,
            description="Redis for LiveKit: reachable from the LiveKit hosts only.",
            allow_all_outbound=False,
        )
        group.add_ingress_rule(
            self.node_security_group, ec2.Port.tcp(constants.REDIS_PORT), "LiveKit hosts"
        )
        subnets = elasticache.CfnSubnetGroup(
            self,
            "RedisSubnets",
            description="Private subnets of the voice VPC.",
            subnet_ids=self.vpc.select_subnets(subnet_group_name="private").subnet_ids,
        )
        redis = elasticache.CfnReplicationGroup(
            self,
            "Redis",
            replication_group_description="LiveKit server + SIP shared state",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.t4g.small",
            num_cache_clusters=1,
            automatic_failover_enabled=False,
            multi_az_enabled=False,
            port=constants.REDIS_PORT,
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            cache_subnet_group_name=subnets.ref,
            security_group_ids=[group.security_group_id],
            snapshot_retention_limit=1,
            auto_minor_version_upgrade=True,
        )
        # LiveKit's routing state is ephemeral: replacing or removing the stack drops it.
        redis.apply_removal_policy(RemovalPolicy.DESTROY)
        return redis

    def _nodes(self) -> tuple[autoscaling.AutoScalingGroup, list[ec2.CfnEIP]]:
        config = self._config
        eips = [
            ec2.CfnEIP(
                self,
                f"LiveKitIp{index}",
                domain="vpc",
                tags=[{"key": "Name", "value": constants.physical_name(config.stage, "livekit")}],
            )
            for index in range(config.livekit_nodes)
        ]
        role = iam.Role(
            self,
            "LiveKitNodeRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonSSMManagedInstanceCore")
            ],
        )
        stack = Stack.of(self)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ec2:AssociateAddress"],
                resources=[
                    *(
                        stack.format_arn(
                            service="ec2",
                            resource="elastic-ip",
                            resource_name=eip.attr_allocation_id,
                        )
                        for eip in eips
                    ),
                    stack.format_arn(service="ec2", resource="instance", resource_name="*"),
                ],
            )
        )
        user_data = ec2.UserData.for_linux()
        allocation_ids = " ".join(eip.attr_allocation_id for eip in eips)
        # A stable public IP per host: carriers allow-list it, ICE advertises it. The first
        # free address of the set wins, so a replaced host takes over its predecessor's.
        user_data.add_commands(
            "command -v aws >/dev/null || dnf install -y awscli-2",
            "TOKEN=$(curl -sX PUT http://169.254.169.254/latest/api/token "
            '-H "X-aws-ec2-metadata-token-ttl-seconds: 300")',
            'IID=$(curl -s -H "X-aws-ec2-metadata-token: $TOKEN" '
            "http://169.254.169.254/latest/meta-data/instance-id)",
            f"for ALLOC in {allocation_ids}; do "
            f"aws ec2 associate-address --region {stack.region} --instance-id $IID "
            "--allocation-id $ALLOC --no-allow-reassociation && break; done",
        )
        template = ec2.LaunchTemplate(
            self,
            "LiveKitNodeTemplate",
            instance_type=ec2.InstanceType(config.livekit_instance_type),
            machine_image=ecs.EcsOptimizedImage.amazon_linux2023(ecs.AmiHardwareType.ARM),
            role=role,
            user_data=user_data,
            security_group=self.node_security_group,
            associate_public_ip_address=True,
            require_imdsv2=True,
            detailed_monitoring=True,
            block_devices=[
                ec2.BlockDevice(
                    device_name="/dev/xvda",
                    volume=ec2.BlockDeviceVolume.ebs(
                        30, encrypted=True, volume_type=ec2.EbsDeviceVolumeType.GP3
                    ),
                )
            ],
        )
        nodes = autoscaling.AutoScalingGroup(
            self,
            "LiveKitNodes",
            vpc=self.vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            launch_template=template,
            min_capacity=config.livekit_nodes,
            max_capacity=config.livekit_nodes,
        )
        provider = ecs.AsgCapacityProvider(
            self,
            "LiveKitCapacity",
            auto_scaling_group=nodes,
            enable_managed_termination_protection=False,
            enable_managed_scaling=False,
            # ECS managed draining moves tasks off a terminating host; the legacy drain
            # hook would add a Lambda (and an SNS topic) for the same job.
            enable_managed_draining=True,
        )
        self.cluster.add_asg_capacity_provider(provider)
        return nodes, eips

    def _redis_config(self) -> dict[str, object]:
        return {
            "address": f"{self.redis.attr_primary_end_point_address}:{constants.REDIS_PORT}",
            "use_tls": True,
        }

    def _livekit_server(self, webhook_url: str) -> ecs.Ec2Service:
        task = ecs.Ec2TaskDefinition(self, "LiveKitServerTask", network_mode=ecs.NetworkMode.HOST)
        config = {
            "port": constants.LIVEKIT_HTTP_PORT,
            "rtc": {
                "tcp_port": constants.LIVEKIT_ICE_TCP_PORT,
                "port_range_start": constants.LIVEKIT_ICE_UDP_RANGE[0],
                "port_range_end": constants.LIVEKIT_ICE_UDP_RANGE[1],
                "use_external_ip": True,
            },
            "redis": self._redis_config(),
            "webhook": {"api_key": self.livekit_api_key, "urls": [webhook_url]},
            "logging": {"json": True, "level": "info"},
        }
        self._host_container(
            task,
            _LIVEKIT_CONTAINER,
            image=self._config.livekit_server_image,
            memory_mib=1024,
            # JSON is YAML: livekit-server reads its config body from LIVEKIT_CONFIG.
            environment={"LIVEKIT_CONFIG": Stack.of(self).to_json_string(config)},
            log_name="livekit",
            # The keys option wants "key: secret"; compose it from the two injected values
            # so the secret never sits in the task definition.
            entry_point=["/bin/sh", "-c"],
            command=['LIVEKIT_KEYS="$LIVEKIT_API_KEY: $LIVEKIT_API_SECRET" exec /livekit-server'],
            port_mappings=[
                ecs.PortMapping(
                    container_port=constants.LIVEKIT_HTTP_PORT,
                    host_port=constants.LIVEKIT_HTTP_PORT,
                    protocol=ecs.Protocol.TCP,
                )
            ],
        )
        return self._daemon_service("LiveKitServer", task)

    def _sip(self) -> ecs.Ec2Service:
        task = ecs.Ec2TaskDefinition(self, "SipTask", network_mode=ecs.NetworkMode.HOST)
        config = {
            "ws_url": f"ws://127.0.0.1:{constants.LIVEKIT_HTTP_PORT}",
            "redis": self._redis_config(),
            "sip_port": constants.SIP_PORT,
            "rtp_port": f"{constants.RTP_RANGE[0]}-{constants.RTP_RANGE[1]}",
            "use_external_ip": True,
            "logging": {"level": "info"},
        }
        self._host_container(
            task,
            _SIP_CONTAINER,
            image=self._config.livekit_sip_image,
            memory_mib=512,
            environment={"SIP_CONFIG_BODY": Stack.of(self).to_json_string(config)},
            log_name="sip",
        )
        return self._daemon_service("Sip", task)

    def _host_container(
        self,
        task: ecs.Ec2TaskDefinition,
        name: str,
        *,
        image: str,
        memory_mib: int,
        environment: dict[str, str],
        log_name: str,
        **extra: Any,
    ) -> None:
        """A LiveKit host-network container: the LiveKit keys as secrets, many open files
        (one per media stream), JSON logs, and two minutes to let live calls finish."""
        task.add_container(
            name,
            image=ecs.ContainerImage.from_registry(image),
            memory_reservation_mib=memory_mib,
            essential=True,
            environment=environment,
            secrets=self.container_secrets(),
            ulimits=[ecs.Ulimit(name=ecs.UlimitName.NOFILE, soft_limit=65536, hard_limit=65536)],
            logging=container_logs(self, log_name, self._log_retention),
            stop_timeout=Duration.seconds(120),
            **extra,
        )

    def _daemon_service(self, construct_id: str, task: ecs.Ec2TaskDefinition) -> ecs.Ec2Service:
        """One task per host: host networking binds fixed ports, so a replacement can only
        start once the old task stopped (0-100 %); a failed rollout rolls back."""
        return ecs.Ec2Service(
            self,
            construct_id,
            cluster=self.cluster,
            task_definition=task,
            daemon=True,
            min_healthy_percent=0,
            max_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
        )

    def _load_balancer(self) -> elbv2.NetworkLoadBalancer:
        config = self._config
        lb_group = ec2.SecurityGroup(
            self,
            "LiveKitApiLbSg",
            vpc=self.vpc,
            description="TLS endpoint of the LiveKit API and signalling.",
            allow_all_outbound=False,
        )
        self.load_balancer_security_group = lb_group
        lb_group.add_ingress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "LiveKit API (TLS)")
        lb_group.add_egress_rule(
            self.node_security_group, ec2.Port.tcp(constants.LIVEKIT_HTTP_PORT), "to LiveKit"
        )
        self.node_security_group.add_ingress_rule(
            lb_group, ec2.Port.tcp(constants.LIVEKIT_HTTP_PORT), "LiveKit API from the NLB"
        )
        certificate: acm.ICertificate = (
            acm.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
            if config.certificate_arn
            else acm.Certificate(
                self,
                "Certificate",
                domain_name=config.livekit_host,
                validation=acm.CertificateValidation.from_dns(),
            )
        )
        balancer = elbv2.NetworkLoadBalancer(
            self,
            "LiveKitApi",
            vpc=self.vpc,
            internet_facing=True,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PUBLIC),
            security_groups=[lb_group],
        )
        balancer.log_access_logs(self._access_logs, prefix="livekit-nlb")
        listener = balancer.add_listener(
            "Tls",
            port=443,
            protocol=elbv2.Protocol.TLS,
            certificates=[elbv2.ListenerCertificate.from_certificate_manager(certificate)],
            ssl_policy=elbv2.SslPolicy.RECOMMENDED_TLS,
        )
        listener.add_targets(
            "LiveKit",
            port=constants.LIVEKIT_HTTP_PORT,
            protocol=elbv2.Protocol.TCP,
            targets=[
                self.livekit_service.load_balancer_target(
                    container_name=_LIVEKIT_CONTAINER,
                    container_port=constants.LIVEKIT_HTTP_PORT,
                )
            ],
            health_check=elbv2.HealthCheck(
                protocol=elbv2.Protocol.HTTP, path="/", interval=Duration.seconds(10)
            ),
            deregistration_delay=Duration.seconds(60),
        )
        return balancer
