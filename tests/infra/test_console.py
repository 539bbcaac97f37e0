"""Issue 17, infrastructure: restaurant users (Cognito) and the console's site.

Read from the synthesized template: the user pool carries the tenant attributes and
admits no self sign-up; the console's app client has no secret and cannot write the tenant
attributes; every route flagged ``tenant_roles`` in the wiring (read from it, so new ones
are covered) exists under ``/app`` behind the Cognito authorizer, integrated with the same
function, and nothing else exists under ``/app``; the site is private behind CloudFront
(OAC), HTTPS only, with ``/app/*`` forwarded to the API.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from functions.wiring import FUNCTIONS

from .conftest import Synthesized
from .test_wiring_matches_template import _function_id, _resource_paths

pytestmark = pytest.mark.infra

TENANT_ROUTES = [(s, r) for s in FUNCTIONS for r in s.routes if r.tenant_roles]


def _site(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """The console site's nested stack's resources."""
    (path,) = synth.outdir.glob("*ConsoleSite*.nested.template.json")
    return dict(json.loads(path.read_text(encoding="utf-8"))["Resources"])


def _one(synth: Synthesized, type_name: str, *, site: bool = False) -> tuple[str, dict[str, Any]]:
    resources = _site(synth) if site else synth.resources
    found = {k: v for k, v in resources.items() if v["Type"] == type_name}
    assert len(found) == 1, f"{type_name}: {list(found)}"
    logical_id, resource = next(iter(found.items()))
    return logical_id, resource["Properties"]


def test_the_user_pool_holds_tenant_and_role_and_admits_no_self_sign_up(synth: Synthesized):
    _, pool = _one(synth, "AWS::Cognito::UserPool")
    custom = {a["Name"]: a for a in pool["Schema"] if a["Name"] in ("tenant_id", "role")}
    assert set(custom) == {"tenant_id", "role"}
    assert all(a["AttributeDataType"] == "String" for a in custom.values())
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12


def test_the_console_client_has_no_secret_and_cannot_write_tenant_or_role(synth: Synthesized):
    _, client = _one(synth, "AWS::Cognito::UserPoolClient")
    assert client.get("GenerateSecret", False) is False
    assert set(client["ExplicitAuthFlows"]) >= {"ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"}
    assert "custom:tenant_id" in client["ReadAttributes"]
    assert not any(a.startswith("custom:") for a in client["WriteAttributes"])
    assert client["PreventUserExistenceErrors"] == "ENABLED"


@pytest.mark.parametrize(
    ("spec", "route"), TENANT_ROUTES, ids=[f"{r.method} {r.tenant_path}" for _, r in TENANT_ROUTES]
)
def test_every_tenant_route_is_under_app_behind_the_cognito_authorizer(
    synth: Synthesized, spec, route
):
    authorizer_id, authorizer = _one(synth, "AWS::ApiGateway::Authorizer")
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    resource_id = {path: rid for rid, path in _resource_paths(synth).items()}[route.tenant_path]
    methods = synth.template.find_resources(
        "AWS::ApiGateway::Method",
        {
            "Properties": {
                "HttpMethod": route.method,
                "ResourceId": {"Ref": resource_id},
                "AuthorizationType": "COGNITO_USER_POOLS",
                "AuthorizerId": {"Ref": authorizer_id},
                "Integration": Match.object_like(
                    {
                        "Type": "AWS_PROXY",
                        "Uri": {
                            "Fn::Join": [
                                "",
                                Match.array_with(
                                    [{"Fn::GetAtt": [_function_id(synth, spec.name), "Arn"]}]
                                ),
                            ]
                        },
                    }
                ),
            }
        },
    )
    assert len(methods) == 1


def test_nothing_but_flagged_routes_lives_under_app(synth: Synthesized):
    paths = _resource_paths(synth)
    expected = {f"{r.method} {r.tenant_path}" for _, r in TENANT_ROUTES}
    found = set()
    for props in (v["Properties"] for v in synth.of_type("AWS::ApiGateway::Method").values()):
        path = paths.get(props["ResourceId"].get("Ref", ""), "/")
        if path.startswith("/app/"):
            found.add(f"{props['HttpMethod']} {path}")
            assert props["AuthorizationType"] == "COGNITO_USER_POOLS", path
    assert found == expected


def test_the_site_is_private_behind_cloudfront_https_only(synth: Synthesized):
    _, distribution = _one(synth, "AWS::CloudFront::Distribution", site=True)
    config = distribution["DistributionConfig"]
    behaviours = [config["DefaultCacheBehavior"], *config.get("CacheBehaviors", [])]
    assert all(b["ViewerProtocolPolicy"] == "https-only" for b in behaviours)
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["Compress"] is True
    api_behaviour = next(b for b in config["CacheBehaviors"] if b["PathPattern"] == "/app/*")
    assert "Authorization" not in str(api_behaviour.get("ForwardedValues", ""))  # policies
    assert api_behaviour["OriginRequestPolicyId"]  # all viewer headers except Host
    _, oac = _one(synth, "AWS::CloudFront::OriginAccessControl", site=True)
    assert oac["OriginAccessControlConfig"]["OriginAccessControlOriginType"] == "s3"
    site = [
        b["Properties"]
        for b in _site(synth).values()
        if b["Type"] == "AWS::S3::Bucket"
        and b["Properties"].get("LoggingConfiguration", {}).get("LogFilePrefix") == "console-site/"
    ]
    assert len(site) == 1
    assert site[0]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


def test_config_json_carries_no_secret(synth: Synthesized):
    assert "ClientSecret" not in json.dumps(_site(synth))
    assert "ClientSecret" not in json.dumps(synth.template_json)
