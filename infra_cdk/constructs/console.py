"""The restaurant console: its users (Cognito) and its site (S3 + CloudFront).

* ``user_pool``: restaurant users, signed up by invitation only (an admin's
  AdminCreateUser, ``POST /v1/tenants/{tenant_id}/users``), with the immutable-for-users
  custom attributes ``tenant_id`` and ``role`` (owner|staff) that land in the ID token.
* ``client``: the console's app client, WITHOUT a secret (a browser cannot keep one),
  USER_PASSWORD_AUTH and SRP; it may read but never write the tenant attributes.
* ``TenantApi``: every route flagged ``tenant_roles`` in the wiring under ``/app``, behind
  the Cognito user pools authorizer (a nested stack); the resolver checks tenant and role.
* ``add_site(api)``: the static site bucket (private, OAC), a CloudFront distribution
  (HTTPS only, security headers) whose ``/app/*`` behaviour forwards to the API — so the
  console calls its API on its own origin (no CORS) — and ``config.json`` (public values
  only) plus the built console (``console/dist``) deployed into the bucket.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Annotations, Duration, NestedStack, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as s3deploy
from constructs import Construct

from functions.wiring_model import TENANT_APP_PREFIX, HttpRoute
from infra_cdk import constants

DIST = Path(__file__).resolve().parents[2] / "console" / "dist"
TENANT_ATTRIBUTES = ("tenant_id", "role")


#: What the console's HTML may load and call (mirrors atende_local.console_site).
def content_security_policy(region: str) -> str:
    """The site's CSP: scripts from the site only; sign-in at the region's Cognito
    endpoint (a CSP wildcard may only lead a host name); LiveKit over wss."""
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src 'self' https://cognito-idp.{region}.amazonaws.com wss:; "
        "media-src 'self' blob:; frame-ancestors 'none'"
    )


class Console(Construct):
    """``user_pool``, ``client``; after ``add_site``: ``bucket``,
    ``distribution``, ``deployment``, created in the scope given there (a nested stack:
    the main stack is near CloudFormation's 500-resource cap)."""

    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.stage = stage
        self.user_pool = cognito.UserPool(
            self,
            "TenantUsers",
            user_pool_name=constants.physical_name(stage, "tenant-users"),
            self_sign_up_enabled=False,  # invitation (admin) or the onboarding flow only
            sign_in_aliases=cognito.SignInAliases(email=True),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            custom_attributes={
                name: cognito.StringAttribute(min_len=1, max_len=64, mutable=True)
                for name in TENANT_ATTRIBUTES
            },
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            deletion_protection=stage == "prod",
            removal_policy=RemovalPolicy.RETAIN if stage == "prod" else RemovalPolicy.DESTROY,
        )
        tenant_read = cognito.ClientAttributes().with_standard_attributes(email=True)
        self.client = self.user_pool.add_client(
            "ConsoleClient",
            user_pool_client_name=constants.physical_name(stage, "console"),
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_password=True, user_srp=True),
            prevent_user_existence_errors=True,
            id_token_validity=Duration.hours(1),
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            read_attributes=tenant_read.with_custom_attributes(*TENANT_ATTRIBUTES),
            # Users may change their e-mail, never their tenant or role (admins set those).
            write_attributes=cognito.ClientAttributes().with_standard_attributes(email=True),
        )

    def add_site(
        self, scope: Construct, api: apigw.RestApi, *, logs_bucket: s3.IBucket | None = None
    ) -> None:
        stage = self.stage
        self.bucket = s3.Bucket(
            scope,
            "Site",
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            versioned=True,
            # Previous releases' files stay restorable for a bounded time, then go.
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-noncurrent-versions",
                    noncurrent_version_expiration=Duration.days(constants.NONCURRENT_VERSION_DAYS),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            server_access_logs_bucket=logs_bucket,
            server_access_logs_prefix="console-site/" if logs_bucket else None,
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=False,
        )
        headers = cloudfront.ResponseHeadersPolicy(
            scope,
            "SecurityHeaders",
            response_headers_policy_name=constants.physical_name(stage, "console-headers"),
            security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
                content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                    content_security_policy=content_security_policy(Stack.of(scope).region),
                    override=True,
                ),
                strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                    access_control_max_age=Duration.days(365),
                    include_subdomains=True,
                    override=True,
                ),
                content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
                frame_options=cloudfront.ResponseHeadersFrameOptions(
                    frame_option=cloudfront.HeadersFrameOption.DENY, override=True
                ),
                referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                    referrer_policy=cloudfront.HeadersReferrerPolicy.SAME_ORIGIN, override=True
                ),
            ),
        )
        api_behavior = cloudfront.BehaviorOptions(
            origin=origins.RestApiOrigin(api),
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            # Authorization, If-Match and the query string reach the API; Host does not
            # (API Gateway answers only to its own host name).
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        )
        self.distribution = cloudfront.Distribution(
            scope,
            "Distribution",
            comment=f"Atende restaurant console ({stage})",
            default_root_object="index.html",
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            default_behavior=cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                compress=True,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
            ),
            additional_behaviors={"/app/*": api_behavior},
        )
        region = Stack.of(self).region
        sources = [
            s3deploy.Source.json_data(
                "config.json",
                {
                    "apiBase": "/app",
                    "cognito": {
                        "endpoint": f"https://cognito-idp.{region}.amazonaws.com/",
                        "region": region,
                        "userPoolId": self.user_pool.user_pool_id,
                        "clientId": self.client.user_pool_client_id,
                    },
                    "stage": stage,
                    "pollSeconds": 3,
                    "livekit": {"mode": "real"},
                },
            )
        ]
        if (DIST / "index.html").exists():
            sources.insert(0, s3deploy.Source.asset(str(DIST)))
        else:
            Annotations.of(scope).add_warning_v2(
                "atende:console-not-built",
                "console/dist is missing: only config.json is deployed (run `make console`).",
            )
        self.deployment = s3deploy.BucketDeployment(
            scope,
            "Deploy",
            sources=sources,
            destination_bucket=self.bucket,
            distribution=self.distribution,
            distribution_paths=["/index.html", "/config.json"],
            prune=False,  # hashed bundles of the previous release stay for open tabs
            memory_limit=256,
        )


class TenantApi(NestedStack):
    """The restaurant users' routes: every route flagged ``tenant_roles`` in the wiring,
    again under ``/app`` on the same REST API and the same Lambda, behind the Cognito user
    pool authorizer (the resolver then checks tenant and role). A nested stack: the main
    stack is at CloudFormation's 500-resource cap. One invoke permission per function
    covers its ``/app`` methods. ``methods`` keyed "METHOD /app/path"."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        api: apigw.RestApi,
        user_pool: cognito.IUserPool,
        routes: list[tuple[HttpRoute, lambda_.IFunction]],
    ) -> None:
        super().__init__(scope, construct_id, description="Atende restaurant-user API routes")
        imported = apigw.RestApi.from_rest_api_attributes(
            self,
            "Api",
            rest_api_id=api.rest_api_id,
            root_resource_id=api.rest_api_root_resource_id,
        )
        self.authorizer = apigw.CognitoUserPoolsAuthorizer(
            self,
            "Authorizer",
            cognito_user_pools=[user_pool],
            authorizer_name=constants.physical_name(stage, "tenant-users"),
            identity_source="method.request.header.Authorization",
            results_cache_ttl=Duration.minutes(5),
        )
        validator = apigw.RequestValidator(
            self, "Validator", rest_api=imported, validate_request_parameters=True
        )
        self.methods: dict[str, apigw.Method] = {}
        granted: set[str] = set()
        region = Stack.of(self).region
        for route, function in routes:
            if not route.tenant_path:
                continue
            if function.node.path not in granted:
                granted.add(function.node.path)
                lambda_.CfnPermission(
                    self,
                    f"Invoke{len(granted)}",
                    action="lambda:InvokeFunction",
                    function_name=function.function_arn,
                    principal="apigateway.amazonaws.com",
                    source_arn=imported.arn_for_execute_api(
                        method="*", path=f"{TENANT_APP_PREFIX}/*", stage="*"
                    ),
                )
            integration = apigw.Integration(
                type=apigw.IntegrationType.AWS_PROXY,
                integration_http_method="POST",
                uri=(
                    f"arn:{Stack.of(self).partition}:apigateway:{region}:lambda:path/"
                    f"2015-03-31/functions/{function.function_arn}/invocations"
                ),
            )
            self.methods[f"{route.method} {route.tenant_path}"] = imported.root.resource_for_path(
                route.tenant_path
            ).add_method(
                route.method,
                integration,
                authorization_type=apigw.AuthorizationType.COGNITO,
                authorizer=self.authorizer,
                request_validator=validator,
                request_parameters={
                    "method.request.header.Authorization": True,
                    **{f"method.request.path.{name}": True for name in route.path_parameters},
                },
            )
        # The API's deployment must follow these methods: a new one whenever they change,
        # made after this stack's methods exist.
        api.latest_deployment.add_to_logical_id(sorted(self.methods))  # type: ignore[union-attr]
        api.latest_deployment.node.add_dependency(self)  # type: ignore[union-attr]
