"""cdk-nag acknowledgments: every AwsSolutions finding we accept, where, and why.

cdk-nag 3 matches each finding exactly (``RuleId[finding]``), so wildcard findings name
the resource they widen; the helpers below build those ids from the constructs rather
than from hashed logical ids written by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_cdk import Acknowledgment, CfnResource, Stack, Validations
from constructs import IConstruct

from atende_shared.resources import Bucket, Table
from infra_cdk import constants

if TYPE_CHECKING:
    from infra_cdk.stack import AtendeStack


#: cfn-lint runs on the synthesized template with its informational rules too
#: (``--include-checks I``, tests/infra); the rules we accept, each with its reason.
CFN_LINT_ACKNOWLEDGMENTS: dict[str, str] = {
    "W3005": "CDK adds DependsOn on a role's default policy next to a GetAtt that already "
    "implies the dependency; harmless and generated, not written by us.",
    "I1022": "CDK renders joined ARNs and URLs as Fn::Join with an empty delimiter; "
    "Fn::Sub would be equivalent, and the template is generated, never edited.",
    "I3010": "The one stack holds ~460 of CloudFormation's 500 resources (20 functions, 56 "
    "API resources): known, and the next domains need a second stack; E3010 still fails "
    "the lint at the hard limit.",
}


def acknowledge(scope: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge ``rule_id`` on ``scope`` and everything below it. A reason is
    mandatory: it is the review trail (the nag test also checks it)."""
    if not reason.strip():
        raise ValueError(f"acknowledgment of {rule_id} needs a reason")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))


def _logical_id(construct: IConstruct) -> str:
    stack = Stack.of(construct)
    default_child = construct.node.default_child
    assert isinstance(default_child, CfnResource)
    return str(stack.resolve(stack.get_logical_id(default_child)))


def _arn_ref(construct: IConstruct) -> str:
    """How cdk-nag prints ``Fn::GetAtt [<resource>, Arn]`` in a finding id."""
    return f"<{_logical_id(construct)}.Arn>"


_BASIC_EXECUTION = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]"
)


def acknowledge_findings(stack: AtendeStack) -> None:
    """Acknowledge the accepted findings of the Atende stack, each with its reason."""
    config = stack.config
    # cdk-nag prints the account as written: literal when the stack has one.
    account = config.account or "<AWS::AccountId>"
    functions = stack.functions
    acknowledge(
        functions,
        _BASIC_EXECUTION,
        "The AWS managed basic execution policy only lets a function write its own "
        "CloudWatch logs; a hand-written copy would drift from AWS's.",
    )
    acknowledge(
        functions,
        "AwsSolutions-L1",
        f"python{constants.LAMBDA_PYTHON_VERSION}, not the newest runtime: it is the one CI runs "
        "the Lambda suites on (make test-runtime), and it has the same Lambda deprecation "
        "date as python3.14, 2029-06-30 (docs/infrastructure.md, The Lambda runtime).",
    )
    acknowledge(
        functions,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray tracing (xray:PutTraceSegments/PutTelemetryRecords) supports no "
        "resource-level permissions; nothing else is granted on '*'.",
    )
    acknowledge(
        functions,
        f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.state.tables[Table.MAIN])}/index/*]",
        "Table grants include the table's own GSIs (tenant lookups by phone number/source); "
        "the wildcard stays inside the granted table.",
    )
    artifacts_objects = (
        f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.state.buckets[Bucket.ARTIFACTS])}/*]"
    )
    acknowledge(
        functions,
        artifacts_objects,
        "Object keys are per tenant and per day (transcripts/, statements/, quarantine/); "
        "only GetObject/PutObject are granted, on this bucket alone.",
    )
    for prefix in sorted(
        {p for spec in stack.functions_specs for p in spec.access.secret_prefixes}
    ):
        name = f"{config.stage}/{prefix}"
        acknowledge(
            functions,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:"
            f"{config.region}:{account}:secret:atende/{name}/*]",
            "Per-tenant integration secrets are created at onboarding (one per tenant and "
            "integration), so the read grant is the stage's tenants/ prefix, for every "
            "function that authenticates with them.",
        )

    for name in sorted({n for spec in stack.functions_specs for n in spec.access.secret_writes}):
        acknowledge(
            functions,
            "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:"
            f"{config.region}:{account}:secret:atende/{config.stage}/{name}-??????]",
            "Put/create (never delete) of one integration's per-tenant secret (Bling's "
            "refresh token rotates on every use); the wildcards are the tenant id and the "
            "six characters Secrets Manager appends to every secret ARN.",
        )

    acknowledge(
        stack.schedule_failures,
        "AwsSolutions-SQS3",
        "This queue is itself the dead-letter destination of the scheduled functions "
        "(Lambda on-failure destination and EventBridge target DLQ), alarmed when not "
        "empty; nothing consumes it automatically.",
    )

    api = stack.api
    acknowledge(
        api.api,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AmazonAPIGatewayPushToCloudWatchLogs]",
        "API Gateway's account-level logging role: the AWS managed policy is the documented "
        "way to let the service write execution logs.",
    )
    api_id = _logical_id(api.api)
    for statement in api.admin_invoke_policy.document.to_json()["Statement"]:
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            path = stack.resolve(resource)["Fn::Join"][1][-1]  # "/<stage>/*/v1/*"
            acknowledge(
                api.admin_invoke_policy,
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:"
                f"{config.region}:{account}:<{api_id}>{path}]",
                "The admin API is one family of IAM-authorized routes; its operators may "
                "call every method under it (the handlers enforce tenant rules).",
            )
    acknowledge(
        api.api,
        "AwsSolutions-COG4",
        "Admin routes are IAM (SigV4) authorized and webhook routes are authenticated by "
        "the provider signature checked in the handler; only the /app routes (restaurant "
        "users) use the Cognito user pool authorizer.",
    )
    for key, method in api.methods.items():
        if key in stack.public_route_keys:
            acknowledge(
                method,
                "AwsSolutions-APIG4",
                "Public webhook route: senders (LiveKit, Bling, Asaas, ...) cannot sign "
                "SigV4; the handler verifies their signature/token on the raw body, and "
                "WAF caps body size and per-path rate.",
            )

    acknowledge(
        stack.state.cursor_key,
        "AwsSolutions-SMG4",
        "Rotating the cursor key only invalidates open list cursors (clients restart the "
        "list, answered 400); rotate by updating the secret, no rotation Lambda needed.",
    )
    livekit = stack.livekit
    acknowledge(
        livekit.livekit_secret,
        "AwsSolutions-SMG4",
        "LiveKit keys are rotated by adding a second key to server/SIP and rolling the "
        "clients; a rotation Lambda cannot do that atomically.",
    )
    acknowledge(
        livekit.node_security_group,
        "AwsSolutions-EC23",
        "WebRTC ICE (UDP 50000-60000, TCP 7881) must accept any client address; SIP 5060 "
        "and RTP 10000-20000 are open only to the configured carrier CIDRs.",
    )
    acknowledge(
        livekit.load_balancer_security_group,
        "AwsSolutions-EC23",
        "The LiveKit API/WebSocket endpoint is public by design, TLS only (443) and "
        "authenticated by LiveKit access tokens.",
    )
    acknowledge(
        livekit.redis,
        "AwsSolutions-AEC4",
        "Redis holds only LiveKit's ephemeral routing state; a single node keeps cost "
        "down and a failover just re-registers nodes. Enable Multi-AZ for larger fleets.",
    )
    acknowledge(
        livekit.redis,
        "AwsSolutions-AEC6",
        "Reachable only from the LiveKit hosts' security group in private subnets, over "
        "TLS; livekit-server/SIP take Redis settings from a plain config body, where an "
        "AUTH token would be exposed in the task definition.",
    )
    node_role = livekit.nodes.role
    acknowledge(
        node_role,
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
        "AmazonSSMManagedInstanceCore]",
        "Session Manager access instead of SSH (no port 22 is open).",
    )
    acknowledge(
        node_role,
        "AwsSolutions-IAM5[Resource::*]",
        "ECS container-instance permissions (ecs:DiscoverPollEndpoint, ecr "
        "GetAuthorizationToken, ...) added by ECS support no resource scoping.",
    )
    acknowledge(
        node_role,
        "AwsSolutions-IAM5[Action::ecs:Submit*]",
        "ECS agent state submission (SubmitTaskStateChange/ContainerStateChange) is "
        "scoped to this cluster by ECS's own grant.",
    )
    acknowledge(
        node_role,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:"
        f"{config.region}:{account}:instance/*]",
        "A booting host attaches one of the stack's Elastic IPs to itself; its own "
        "instance id is unknown until launch.",
    )
    acknowledge(
        livekit.nodes,
        "AwsSolutions-AS3",
        "Fixed-size group (one host per Elastic IP); host replacements are visible in ECS "
        "events and the LiveKit target-group health alarms.",
    )
    for task in (livekit.livekit_service.task_definition, livekit.sip_service.task_definition):
        acknowledge(
            task,
            "AwsSolutions-ECS2",
            "The environment holds the non-secret LiveKit/SIP config body (ports, Redis "
            "endpoint); keys come from Secrets Manager.",
        )
    acknowledge(
        stack.agent.task_definition,
        "AwsSolutions-ECS2",
        "Non-secret settings only (stage, resource names, LiveKit URL); API keys come "
        "from Secrets Manager.",
    )
    acknowledge(
        stack.agent.task_definition,
        "AwsSolutions-IAM5[Resource::*]",
        "ecr:GetAuthorizationToken (execution role) has no resource-level permissions.",
    )
    acknowledge(
        stack.agent.task_definition,
        artifacts_objects,
        "The agent writes one transcript object per call under transcripts/; PutObject "
        "only, on the artifacts bucket alone.",
    )
    acknowledge(
        stack.agent.task_definition,
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:"
        f"{config.region}:{account}:task/"
        f"{constants.physical_name(config.stage, constants.VOICE_CLUSTER)}/*]",
        "A task protects itself from scale-in while calls are live; task ids are only "
        "known at run time, so the grant is every task of the voice cluster.",
    )
    acknowledge(
        stack.agent.task_definition,
        f"AwsSolutions-IAM5[Resource::{_arn_ref(stack.state.tables[Table.MAIN])}/index/*]",
        "Read access to the main table includes its GSI (tenant by dialled number).",
    )
    _acknowledge_console(stack, account)


def _acknowledge_console(stack: AtendeStack, account: str) -> None:
    """The restaurant console: its user pool, its CloudFront site and CDK's deployer."""
    console = stack.console
    acknowledge(
        console.user_pool,
        "AwsSolutions-COG2",
        "MFA is optional (TOTP offered): kitchen staff sign in on shared tablets without a "
        "personal second factor; threat protection (full function) and a 12-character "
        "password policy apply to every user.",
    )
    distribution = console.distribution
    acknowledge(
        distribution,
        "AwsSolutions-CFR1",
        "Restaurant owners sign in from wherever they are (travel, accountants abroad); "
        "the API behind /app is protected by the Cognito authorizer and the regional WAF.",
    )
    acknowledge(
        distribution,
        "AwsSolutions-CFR2",
        "The site is static files; /app/* reaches the regional API whose WAF web ACL "
        "(rate limits, body caps, managed rules) already applies. A CloudFront web ACL "
        "would have to live in us-east-1 (a second stack).",
    )
    acknowledge(
        distribution,
        "AwsSolutions-CFR3",
        "Standard logs need an ACL-enabled bucket; API calls are logged by API Gateway's "
        "access log and the site bucket has S3 server access logs.",
    )
    acknowledge(
        distribution,
        "AwsSolutions-CFR4",
        "The default *.cloudfront.net certificate cannot pin TLS 1.2 (CDK ignores a minimum "
        "protocol without a custom certificate); set TLSv1.2_2021 with the custom domain.",
    )
    deployer = next(
        child
        for child in Stack.of(console.bucket).node.children
        if child.node.id.startswith("Custom::CDKBucketDeployment")
    )
    acknowledge(
        deployer,
        _BASIC_EXECUTION,
        "CDK's BucketDeployment function (publishes the built console): the AWS managed "
        "basic execution policy only lets it write its own logs.",
    )
    acknowledge(
        deployer,
        "AwsSolutions-L1",
        "The runtime of CDK's own BucketDeployment function is chosen by aws-cdk-lib and "
        "moves with it.",
    )
    site_objects = f"AwsSolutions-IAM5[Resource::{_arn_ref(console.bucket)}/*]"
    assets = (
        "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-"
        f"{account}-{stack.config.region}/*]"
    )
    for finding in (
        "AwsSolutions-IAM5[Action::s3:GetObject*]",
        "AwsSolutions-IAM5[Action::s3:GetBucket*]",
        "AwsSolutions-IAM5[Action::s3:List*]",
        "AwsSolutions-IAM5[Action::s3:DeleteObject*]",
        "AwsSolutions-IAM5[Action::s3:Abort*]",
        "AwsSolutions-IAM5[Resource::*]",
        site_objects,
        assets,
    ):
        acknowledge(
            deployer,
            finding,
            "CDK's BucketDeployment copies the console's asset from the CDK assets bucket "
            "into the site bucket (and invalidates CloudFront, which has no resource-level "
            "permissions): the grants are CDK's, on those two buckets only.",
        )
