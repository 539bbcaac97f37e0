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

from functions.wiring import FUNCTIONS

from .conftest import Synthesized, refs_in
from .test_wiring_matches_template import _function_id, _resource_paths

pytestmark = pytest.mark.infra

TENANT_ROUTES = [(s, r) for s in FUNCTIONS for r in s.routes if r.tenant_roles]


def _nested(synth: Synthesized, name: str) -> dict[str, Any]:
    (path,) = synth.outdir.glob(f"*{name}*.nested.template.json")
    return dict(json.loads(path.read_text(encoding="utf-8")))


def _site(synth: Synthesized) -> dict[str, dict[str, Any]]:
    """The console site's nested stack's resources."""
    return dict(_nested(synth, "ConsoleSite")["Resources"])


def _one(synth: Synthesized, type_name: str, *, site: bool = False) -> tuple[str, dict[str, Any]]:
    resources = _site(synth) if site else synth.resources
    found = {k: v for k, v in resources.items() if v["Type"] == type_name}
    assert len(found) == 1, f"{type_name}: {list(found)}"
    logical_id, resource = next(iter(found.items()))
    return logical_id, resource["Properties"]


def _tenant_api(synth: Synthesized) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The TenantApi nested stack's resources, and its parameters resolved to the parent's
    logical ids (``{"Fn::GetAtt": [id, "Arn"]}`` / ``{"Ref": id}`` -> id)."""
    template = _nested(synth, "TenantApi")
    (nested,) = [
        r for k, r in synth.of_type("AWS::CloudFormation::Stack").items() if "TenantApi" in k
    ]
    parameters = {
        name: next(iter(refs_in(value)))
        for name, value in nested["Properties"]["Parameters"].items()
    }
    return dict(template["Resources"]), parameters


def _tenant_paths(resources: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Nested resource id -> full path (the parent's root resource is a parameter)."""

    def path_of(logical_id: str) -> str:
        props = resources[logical_id]["Properties"]
        parent = props["ParentId"].get("Ref", "")
        prefix = path_of(parent) if parent in resources else ""
        return f"{prefix}/{props['PathPart']}"

    return {k: path_of(k) for k, v in resources.items() if v["Type"] == "AWS::ApiGateway::Resource"}


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
    resources, parameters = _tenant_api(synth)
    (authorizer_id,) = [
        k for k, v in resources.items() if v["Type"] == "AWS::ApiGateway::Authorizer"
    ]
    authorizer = resources[authorizer_id]["Properties"]
    assert authorizer["Type"] == "COGNITO_USER_POOLS"
    assert authorizer["IdentitySource"] == "method.request.header.Authorization"
    resource_id = {path: rid for rid, path in _tenant_paths(resources).items()}[route.tenant_path]
    methods = [
        v["Properties"]
        for v in resources.values()
        if v["Type"] == "AWS::ApiGateway::Method"
        and v["Properties"]["ResourceId"] == {"Ref": resource_id}
        and v["Properties"]["HttpMethod"] == route.method
    ]
    assert len(methods) == 1
    method = methods[0]
    assert method["AuthorizationType"] == "COGNITO_USER_POOLS"
    assert method["AuthorizerId"] == {"Ref": authorizer_id}
    assert method["Integration"]["Type"] == "AWS_PROXY"
    # integrated with the route's own function (a parameter carrying its ARN)
    targets = {parameters[p] for p in refs_in(method["Integration"]["Uri"]) if p in parameters}
    assert targets == {_function_id(synth, spec.name)}


def test_nothing_but_flagged_routes_lives_under_app(synth: Synthesized):
    resources, _ = _tenant_api(synth)
    paths = _tenant_paths(resources)
    found = {
        f"{v['Properties']['HttpMethod']} {paths[v['Properties']['ResourceId']['Ref']]}"
        for v in resources.values()
        if v["Type"] == "AWS::ApiGateway::Method"
    }
    assert found == {f"{r.method} {r.tenant_path}" for _, r in TENANT_ROUTES}
    # and the main stack's API has no /app method at all
    main_paths = _resource_paths(synth)
    assert not any(path.startswith("/app") for path in main_paths.values())


def test_each_function_may_be_invoked_by_its_app_methods_only(synth: Synthesized):
    resources, parameters = _tenant_api(synth)
    permissions = [
        v["Properties"] for v in resources.values() if v["Type"] == "AWS::Lambda::Permission"
    ]
    functions = {parameters[next(iter(refs_in(p["FunctionName"])))] for p in permissions}
    assert functions == {_function_id(synth, spec.name) for spec, _ in TENANT_ROUTES}
    for permission in permissions:
        assert permission["Principal"] == "apigateway.amazonaws.com"
        assert "/app/*" in json.dumps(permission["SourceArn"])


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
