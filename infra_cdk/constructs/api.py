"""API: the REST API with one method per declared route, throttling, access logs,
tracing, and a WAF web ACL for the body-size cap and the per-path (per-tenant) rate limit.

``public-signed`` routes carry no API Gateway authorizer: the handler verifies the
provider's signature on the raw body. ``admin`` routes are IAM-authorized (SigV4).
``/health`` exists only on the local gateway.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from functions.wiring_model import HttpRoute
from infra_cdk import constants


def public_path_fragments(routes: list[HttpRoute]) -> tuple[str, ...]:
    """The shortest leading path fragments (``/webhooks/``) that cover every size-capped
    public route and appear in no admin or ``large_body`` route."""
    admin_paths = [f"{r.path}/" for r in routes if r.auth == "admin" or r.large_body]
    fragments: set[str] = set()
    for route in routes:
        if route.auth == "admin" or route.large_body:
            continue
        segments = route.path.strip("/").split("/")
        for length in range(1, len(segments) + 1):
            fragment = "/" + "/".join(segments[:length]) + "/"
            if "{" in fragment:
                raise ValueError(f"public route {route.path} shares its static prefix with admin")
            if not any(fragment in path for path in admin_paths):
                fragments.add(fragment)
                break
    return tuple(sorted(fragments))


_NO_TRANSFORMATION = wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")


def _any_path_contains(fragments: tuple[str, ...]) -> wafv2.CfnWebACL.StatementProperty:
    """URI path contains one of ``fragments`` (e.g. ``/webhooks/``)."""
    matches = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="CONTAINS",
                search_string=fragment,
                text_transformations=[_NO_TRANSFORMATION],
            )
        )
        for fragment in fragments
    ]
    if len(matches) == 1:
        return matches[0]
    return wafv2.CfnWebACL.StatementProperty(
        or_statement=wafv2.CfnWebACL.OrStatementProperty(statements=matches)
    )


_WAF_RESPONSE_BODIES = {
    "payload-too-large": '{"error":{"code":"payload_too_large",'
    '"message":"request body exceeds the webhook size limit"}}',
    "too-many-requests": '{"error":{"code":"rate_limited",'
    '"message":"too many requests on this path; retry later"}}',
}


def _block_with(status: int, body_key: str) -> wafv2.CfnWebACL.RuleActionProperty:
    return wafv2.CfnWebACL.RuleActionProperty(
        block=wafv2.CfnWebACL.BlockActionProperty(
            custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                response_code=status, custom_response_body_key=body_key
            )
        )
    )


class Api(Construct):
    """``api`` (RestApi), ``methods`` keyed "METHOD /path", ``web_acl``, ``access_logs``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        routes: list[tuple[HttpRoute, lambda_.IFunction]],
        rate_limit: int,
        burst_limit: int,
        max_body_kib: int,
        rate_limit_per_path: int,
        log_retention: logs.RetentionDays,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = logs.LogGroup(
            self,
            "AccessLogs",
            log_group_name=f"/atende/{stage}/api-access",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.api = apigw.RestApi(
            self,
            "RestApi",
            rest_api_name=constants.physical_name(stage, "api"),
            description="Atende webhooks (signed, public) and admin API (IAM).",
            endpoint_types=[apigw.EndpointType.REGIONAL],
            cloud_watch_role=True,
            cloud_watch_role_removal_policy=RemovalPolicy.DESTROY,
            deploy_options=apigw.StageOptions(
                stage_name=stage,
                throttling_rate_limit=rate_limit,
                throttling_burst_limit=burst_limit,
                tracing_enabled=True,
                metrics_enabled=True,
                logging_level=apigw.MethodLoggingLevel.ERROR,
                data_trace_enabled=False,  # bodies carry customer data: never log them
                access_log_destination=apigw.LogGroupLogDestination(self.access_logs),
                access_log_format=apigw.AccessLogFormat.json_with_standard_fields(
                    caller=True,
                    http_method=True,
                    ip=True,
                    protocol=True,
                    request_time=True,
                    resource_path=True,
                    response_length=True,
                    status=True,
                    user=True,
                ),
            ),
        )
        # Rejects a request whose path parameters are missing before Lambda runs. No body
        # models are declared: bodies are validated by the handlers (pydantic) on the raw
        # bytes whose signature they verify, so body validation here is a no-op by design.
        self.validator = self.api.add_request_validator(
            "RequestValidator", validate_request_parameters=True, validate_request_body=True
        )
        integrations: dict[str, apigw.LambdaIntegration] = {}
        self.methods: dict[str, apigw.Method] = {}
        for route, function in routes:
            node_id = function.node.path
            if node_id not in integrations:
                integrations[node_id] = apigw.LambdaIntegration(
                    function, proxy=True, allow_test_invoke=False
                )
            resource = self.api.root.resource_for_path(route.path)
            admin = route.auth == "admin"
            self.methods[f"{route.method} {route.path}"] = resource.add_method(
                route.method,
                integrations[node_id],
                authorization_type=(
                    apigw.AuthorizationType.IAM if admin else apigw.AuthorizationType.NONE
                ),
                request_validator=self.validator,
                request_parameters={
                    f"method.request.path.{name}": True for name in route.path_parameters
                },
            )
        public_path_prefixes = public_path_fragments([route for route, _ in routes])
        # Operators attach this to the roles that administer tenants (SigV4 callers).
        admin_prefixes = sorted(
            {f"/{route.path.split('/')[1]}/*" for route, _ in routes if route.auth == "admin"}
        )
        self.admin_invoke_policy = iam.ManagedPolicy(
            self,
            "AdminInvoke",
            managed_policy_name=constants.physical_name(stage, "admin-api-invoke"),
            description="Call the Atende admin API (IAM-authorized routes) of this stage.",
            statements=[
                iam.PolicyStatement(
                    actions=["execute-api:Invoke"],
                    resources=[
                        self.api.arn_for_execute_api(method="*", path=prefix, stage=stage)
                        for prefix in admin_prefixes
                    ],
                )
            ],
        )
        self.web_acl = self._web_acl(stage, max_body_kib, rate_limit_per_path, public_path_prefixes)
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )

    def _web_acl(
        self,
        stage: str,
        max_body_kib: int,
        rate_limit: int,
        public_path_prefixes: tuple[str, ...],
    ) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        limit_bytes = max_body_kib * 1024
        return wafv2.CfnWebACL(
            self,
            "WebAcl",
            name=constants.physical_name(stage, "api"),
            scope="REGIONAL",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            visibility_config=visibility("atende-api"),
            # Refusals speak the platform's error body, with the status a sender expects.
            custom_response_bodies={
                key: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON", content=body
                )
                for key, body in _WAF_RESPONSE_BODIES.items()
            },
            # WAF sees at most 64 KiB of an API Gateway body; inspect all of what it allows
            # so "bigger than the limit" is decided on the whole inspected window.
            association_config=wafv2.CfnWebACL.AssociationConfigProperty(
                request_body={
                    "API_GATEWAY": wafv2.CfnWebACL.RequestBodyAssociatedResourceTypeConfigProperty(
                        default_size_inspection_limit=f"KB_{max_body_kib}"
                    )
                }
            ),
            rules=[
                wafv2.CfnWebACL.RuleProperty(
                    name="body-size-limit",
                    priority=0,
                    action=_block_with(413, "payload-too-large"),
                    visibility_config=visibility("atende-api-body-size"),
                    # Only the unauthenticated routes: admin (IAM) bodies such as a whole
                    # menu may legitimately be larger than WAF can inspect.
                    statement=wafv2.CfnWebACL.StatementProperty(
                        and_statement=wafv2.CfnWebACL.AndStatementProperty(
                            statements=[
                                wafv2.CfnWebACL.StatementProperty(
                                    size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                                        field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                                            body=wafv2.CfnWebACL.BodyProperty(
                                                oversize_handling="MATCH"
                                            )
                                        ),
                                        comparison_operator="GT",
                                        size=limit_bytes,
                                        text_transformations=[_NO_TRANSFORMATION],
                                    )
                                ),
                                _any_path_contains(public_path_prefixes),
                            ]
                        )
                    ),
                ),
                wafv2.CfnWebACL.RuleProperty(
                    # Webhook paths carry the tenant id, so one counter per path is one
                    # counter per tenant and provider: a noisy tenant cannot starve others.
                    name="rate-per-path",
                    priority=1,
                    action=_block_with(429, "too-many-requests"),
                    visibility_config=visibility("atende-api-rate-per-path"),
                    statement=wafv2.CfnWebACL.StatementProperty(
                        rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                            limit=rate_limit,
                            evaluation_window_sec=300,
                            aggregate_key_type="CUSTOM_KEYS",
                            custom_keys=[
                                wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                                    uri_path=wafv2.CfnWebACL.RateLimitUriPathProperty(
                                        text_transformations=[
                                            wafv2.CfnWebACL.TextTransformationProperty(
                                                priority=0, type="LOWERCASE"
                                            )
                                        ]
                                    )
                                )
                            ],
                        )
                    ),
                ),
            ],
        )
