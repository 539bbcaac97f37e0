"""API: the REST API with one method per declared route, throttling, access logs,
tracing, and a WAF web ACL for the body-size cap and the per-path (per-tenant) rate limit.

``public-signed`` routes carry no API Gateway authorizer: the handler verifies the
provider's signature on the raw body. ``admin`` routes are IAM-authorized (SigV4).
``/health`` exists only on the local gateway.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import RemovalPolicy
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

from functions.wiring_model import HttpRoute
from infra_cdk import constants


def _leading_fragments(selected: list[HttpRoute], others: list[HttpRoute]) -> tuple[str, ...]:
    """The shortest leading path fragments (``/webhooks/``) that cover every ``selected``
    route and appear in none of ``others``."""
    other_paths = [f"{r.path}/" for r in others]
    fragments: set[str] = set()
    for route in selected:
        segments = route.path.strip("/").split("/")
        for length in range(1, len(segments) + 1):
            fragment = "/" + "/".join(segments[:length]) + "/"
            if "{" in fragment:
                raise ValueError(f"route {route.path} shares its static prefix with another")
            if not any(fragment in path for path in other_paths):
                fragments.add(fragment)
                break
    return tuple(sorted(fragments))


def public_path_fragments(routes: list[HttpRoute]) -> tuple[str, ...]:
    """Fragments covering every size-capped public route (WAF's inspection window) and no
    admin or ``large_body`` route."""
    capped = [r for r in routes if r.auth != "admin" and not r.large_body]
    return _leading_fragments(capped, [r for r in routes if r not in capped])


def large_body_caps(routes: list[HttpRoute]) -> dict[int, tuple[str, ...]]:
    """Each public ``large_body`` route's own cap -> the fragments that cover exactly the
    routes with that cap (the ingest routes: ``/v1/ingest/``)."""
    caps: dict[int, tuple[str, ...]] = {}
    for cap in sorted({r.max_body_bytes for r in routes if r.max_body_bytes}):
        selected = [r for r in routes if r.max_body_bytes == cap and r.auth != "admin"]
        caps[cap] = _leading_fragments(selected, [r for r in routes if r not in selected])
    return caps


_NO_TRANSFORMATION = wafv2.CfnWebACL.TextTransformationProperty(priority=0, type="NONE")
#: Paths are compared and counted after URL-decoding and lower-casing, so
#: ``/webhooks/asaas/%64emo-pizzaria`` is ``/webhooks/asaas/demo-pizzaria`` to every rule.
NORMALISE_PATH = ("URL_DECODE", "LOWERCASE")


def _normalised() -> list[wafv2.CfnWebACL.TextTransformationProperty]:
    return [
        wafv2.CfnWebACL.TextTransformationProperty(priority=i, type=kind)
        for i, kind in enumerate(NORMALISE_PATH)
    ]


def greater_than_pattern(limit: int) -> str:
    """A regular expression matching exactly the decimal integers above ``limit`` (leading
    zeros allowed, as HTTP allows them in ``Content-Length``), within WAF's regex subset
    (https://docs.aws.amazon.com/waf/latest/developerguide/waf-regex-pattern-support.html:
    no capturing groups, small quantifiers, few branches)."""
    digits = str(limit)
    width = len(digits)
    options = [rf"[1-9]\d{{{width},}}"]
    for i, digit in enumerate(digits):
        if digit == "9":
            continue
        rest = width - i - 1
        higher = "9" if digit == "8" else f"[{int(digit) + 1}-9]"
        options.append(digits[:i] + higher + (rf"\d{{{rest}}}" if rest else ""))
    # Each branch anchored on its own: no group at all (WAF refuses capturing groups).
    return "|".join(f"^0*{option}$" for option in options)


def _any_path_contains(fragments: tuple[str, ...]) -> wafv2.CfnWebACL.StatementProperty:
    """URI path contains one of ``fragments`` (e.g. ``/webhooks/``)."""
    matches = [
        wafv2.CfnWebACL.StatementProperty(
            byte_match_statement=wafv2.CfnWebACL.ByteMatchStatementProperty(
                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(uri_path={}),
                positional_constraint="CONTAINS",
                search_string=fragment.lower(),
                text_transformations=_normalised(),
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
    "too-many-from-source": '{"error":{"code":"rate_limited",'
    '"message":"too many requests from this address; retry later"}}',
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
        rate_limit_per_ip: int,
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
        declared = [route for route, _ in routes]
        public_path_prefixes = public_path_fragments(declared)
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
        self.web_acl = self._web_acl(
            stage,
            max_body_kib=max_body_kib,
            rate_limit_per_path=rate_limit_per_path,
            rate_limit_per_ip=rate_limit_per_ip,
            public_path_prefixes=public_path_prefixes,
            large_body_caps=large_body_caps(declared),
        )
        wafv2.CfnWebACLAssociation(
            self,
            "WebAclAssociation",
            resource_arn=self.api.deployment_stage.stage_arn,
            web_acl_arn=self.web_acl.attr_arn,
        )
        # WAF logs to CloudWatch Logs: the group name must start with aws-waf-logs-.
        self.waf_logs = logs.LogGroup(
            self,
            "WafLogs",
            log_group_name=f"aws-waf-logs-{constants.physical_name(stage, 'api')}",
            retention=log_retention,
            removal_policy=RemovalPolicy.DESTROY,
        )
        wafv2.CfnLoggingConfiguration(
            self,
            "WafLogging",
            resource_arn=self.web_acl.attr_arn,
            log_destination_configs=[self.waf_logs.log_group_arn],
            # Credentials senders put in headers never reach the log.
            redacted_fields=[
                wafv2.CfnLoggingConfiguration.FieldToMatchProperty(single_header={"Name": name})
                for name in WAF_REDACTED_HEADERS
            ],
        )

    def _web_acl(
        self,
        stage: str,
        *,
        max_body_kib: int,
        rate_limit_per_path: int,
        rate_limit_per_ip: int,
        public_path_prefixes: tuple[str, ...],
        large_body_caps: dict[int, tuple[str, ...]],
    ) -> wafv2.CfnWebACL:
        def visibility(name: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
            return wafv2.CfnWebACL.VisibilityConfigProperty(
                cloud_watch_metrics_enabled=True, metric_name=name, sampled_requests_enabled=True
            )

        limit_bytes = max_body_kib * 1024
        rules: list[dict[str, Any]] = [
            # Known-bad sources first: nothing else needs to look at them.
            _managed("AWSManagedRulesAmazonIpReputationList", visibility),
            {
                "name": "body-size-limit",
                "action": _block_with(413, "payload-too-large"),
                "visibility_config": visibility("atende-api-body-size"),
                # Only the unauthenticated routes: admin (IAM) bodies such as a whole
                # menu may legitimately be larger than WAF can inspect.
                "statement": _and(
                    wafv2.CfnWebACL.StatementProperty(
                        size_constraint_statement=wafv2.CfnWebACL.SizeConstraintStatementProperty(
                            field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                                body=wafv2.CfnWebACL.BodyProperty(oversize_handling="MATCH")
                            ),
                            comparison_operator="GT",
                            size=limit_bytes,
                            text_transformations=[_NO_TRANSFORMATION],
                        )
                    ),
                    _any_path_contains(public_path_prefixes),
                ),
            },
        ]
        for cap, fragments in large_body_caps.items():
            # Past WAF's inspection window: the declared Content-Length is what it can see.
            # API Gateway refuses a body longer than its Content-Length, and the handler
            # checks the cap again (chunked bodies carry no length).
            rules.append(
                {
                    "name": f"declared-size-limit-{cap}",
                    "action": _block_with(413, "payload-too-large"),
                    "visibility_config": visibility(f"atende-api-declared-size-{cap}"),
                    "statement": _and(
                        wafv2.CfnWebACL.StatementProperty(
                            regex_match_statement=wafv2.CfnWebACL.RegexMatchStatementProperty(
                                field_to_match=wafv2.CfnWebACL.FieldToMatchProperty(
                                    single_header={"Name": "content-length"}
                                ),
                                regex_string=greater_than_pattern(cap),
                                text_transformations=[_NO_TRANSFORMATION],
                            )
                        ),
                        _any_path_contains(fragments),
                    ),
                }
            )
        rules += [
            {
                # Webhook paths carry the tenant id, so one counter per (normalised) path
                # is one counter per tenant and provider: a noisy tenant cannot starve others.
                "name": "rate-per-path",
                "action": _block_with(429, "too-many-requests"),
                "visibility_config": visibility("atende-api-rate-per-path"),
                "statement": wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit_per_path,
                        evaluation_window_sec=300,
                        aggregate_key_type="CUSTOM_KEYS",
                        custom_keys=[
                            wafv2.CfnWebACL.RateBasedStatementCustomKeyProperty(
                                uri_path=wafv2.CfnWebACL.RateLimitUriPathProperty(
                                    text_transformations=_normalised()
                                )
                            )
                        ],
                    )
                ),
            },
            {
                # One address cannot spread its requests over many paths (tenants). Set well
                # above one provider's delivery rate: a provider's egress address delivers
                # for every tenant that uses it.
                "name": "rate-per-source-ip",
                "action": _block_with(429, "too-many-from-source"),
                "visibility_config": visibility("atende-api-rate-per-ip"),
                "statement": wafv2.CfnWebACL.StatementProperty(
                    rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                        limit=rate_limit_per_ip,
                        evaluation_window_sec=300,
                        aggregate_key_type="IP",
                    )
                ),
            },
            _managed(
                "AWSManagedRulesCommonRuleSet",
                visibility,
                # Counted, not blocked: its 8 KB body limit is below what our routes take
                # (webhooks up to the WAF cap above, ingest batches and admin menus beyond
                # it); the size rules above enforce each route's own cap.
                count_only=("SizeRestrictions_BODY",),
            ),
            _managed("AWSManagedRulesKnownBadInputsRuleSet", visibility),
        ]
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
            # Evaluated in the order listed.
            rules=[
                wafv2.CfnWebACL.RuleProperty(priority=priority, **rule)
                for priority, rule in enumerate(rules)
            ],
        )


#: Headers that carry senders' credentials, redacted from WAF logs.
WAF_REDACTED_HEADERS = (
    "authorization",
    "asaas-access-token",
    "apikey",
    "client-token",
    "x-bling-signature-256",
    "webhook-signature",
)


def _and(*statements: wafv2.CfnWebACL.StatementProperty) -> wafv2.CfnWebACL.StatementProperty:
    return wafv2.CfnWebACL.StatementProperty(
        and_statement=wafv2.CfnWebACL.AndStatementProperty(statements=list(statements))
    )


def _managed(
    name: str,
    visibility: Any,
    *,
    count_only: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An AWS managed rule group, its own actions kept except ``count_only`` rules."""
    return {
        "name": f"aws-{name}",
        "override_action": wafv2.CfnWebACL.OverrideActionProperty(none={}),
        "visibility_config": visibility(f"atende-api-{name}"),
        "statement": wafv2.CfnWebACL.StatementProperty(
            managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                vendor_name="AWS",
                name=name,
                rule_action_overrides=[
                    wafv2.CfnWebACL.RuleActionOverrideProperty(
                        name=rule,
                        action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                    )
                    for rule in count_only
                ]
                or None,
            )
        ),
    }
