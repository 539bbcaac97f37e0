"""Restaurant users reach only their own tenant: every flagged route, read from the wiring.

The platform runs in a subprocess; users sign in through the local Cognito endpoint as the
console does (moto's user pool), and call ``/app/...`` with their ID token. For EVERY route
flagged ``tenant_roles`` (so a route added later is covered without touching this test):
another tenant's owner gets 403/404 and no data, the right user gets neither 401 nor 403.
Around it: no token, a forged token, the admin token and unflagged routes are refused.
"""

from __future__ import annotations

import base64
import gzip
import json
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import moto
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from functions.wiring import FUNCTIONS
from functions.wiring_model import FunctionSpec, HttpRoute
from tests.e2e.conftest import PlatformClient
from tests.e2e.test_call import _call

pytestmark = pytest.mark.e2e

_SAFE_INVALID_BODY = b"[]"  # never a valid request: a write can change nothing


def sign_in(platform: PlatformClient, username: str, password: str) -> str:
    """The ID token, from the Cognito JSON API the console calls (proxied to moto)."""
    answer = platform.http.post(
        "/_local/cognito",
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=json.dumps(
            {
                "ClientId": platform.state["console"]["client_id"],
                "AuthFlow": "USER_PASSWORD_AUTH",
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }
        ),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["AuthenticationResult"]["IdToken"])


def user(platform: PlatformClient, tenant_id: str, role: str) -> dict[str, str]:
    users = platform.state["console"]["users"]
    return dict(next(u for u in users if u["tenant_id"] == tenant_id and u["role"] == role))


def token_of(platform: PlatformClient, tenant_id: str, role: str) -> str:
    found = user(platform, tenant_id, role)
    return sign_in(platform, found["username"], found["password"])


def flagged_routes() -> list[tuple[FunctionSpec, HttpRoute]]:
    routes = [(spec, r) for spec in FUNCTIONS for r in spec.routes if r.tenant_roles]
    assert routes, "no route is open to restaurant users"
    return routes


def _fill(route: HttpRoute, values: dict[str, str]) -> str:
    path = route.path
    for name in route.path_parameters:
        path = path.replace("{" + name + "}", values[name])
    return f"/app{path}"


def _call_route(
    platform: PlatformClient, route: HttpRoute, values: dict[str, str], token: str
) -> httpx.Response:
    body = _SAFE_INVALID_BODY if route.method in ("POST", "PUT", "PATCH") else None
    return platform.http.request(
        route.method,
        _fill(route, values),
        headers={"Authorization": token, "Content-Type": "application/json"},
        content=body,
    )


@pytest.fixture(scope="module")
def placed(platform: PlatformClient, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Given one real order (and its call) of the demo tenant, from a scripted call."""
    outcome = _call(platform, tmp_path_factory.mktemp("isolation-call"))
    tenant, order_id = platform.demo_tenant_id, outcome["order"]["order_id"]

    def stored() -> dict[str, Any] | None:
        answer = platform.http.get(
            f"/v1/tenants/{tenant}/orders/{order_id}", headers=platform.admin
        )
        return dict(answer.json()) if answer.status_code == 200 else None

    order = platform.wait_for(stored, timeout=60)
    return {"order": order, "call_id": outcome["call_id"]}


def _values(platform: PlatformClient, placed: dict[str, Any]) -> dict[str, str]:
    order = placed["order"]
    return {
        "tenant_id": platform.demo_tenant_id,
        "order_id": order["order_id"],
        "number": str(order["order_number"]),
        "call_id": placed["call_id"],
        "period": time.strftime("%Y-%m"),
    }


def _secrets_of(answer: httpx.Response, placed: dict[str, Any]) -> list[str]:
    """Demo-tenant data that leaked into an answer (nothing, for a refused request)."""
    text = answer.text
    marks = [placed["order"]["order_id"], placed["call_id"], "Pizzaria Demo", "Calabresa"]
    return [mark for mark in marks if mark in text]


def test_another_tenants_owner_is_refused_on_every_flagged_route(
    platform: PlatformClient, placed: dict[str, Any]
):
    # Given the owner of another restaurant, signed in
    intruder = token_of(platform, "outra-pizzaria", "owner")
    values = _values(platform, placed)
    for spec, route in flagged_routes():
        # When they call the demo tenant's route with their own token
        answer = _call_route(platform, route, values, intruder)
        # Then it is refused, with the platform's error body and none of the demo's data
        where = f"{route.method} {route.path} ({spec.name})"
        assert answer.status_code in (403, 404), f"{where}: {answer.status_code} {answer.text}"
        assert set(answer.json()) <= {"error", "correlation_id"}, where
        assert _secrets_of(answer, placed) == [], where


def test_the_right_user_reaches_every_flagged_route(
    platform: PlatformClient, placed: dict[str, Any]
):
    values = _values(platform, placed)
    tokens = {
        role: token_of(platform, platform.demo_tenant_id, role) for role in ("owner", "staff")
    }
    for spec, route in flagged_routes():
        for role, token in tokens.items():
            answer = _call_route(platform, route, values, token)
            where = f"{role} {route.method} {route.path} ({spec.name})"
            if role in route.tenant_roles:
                # Then the route answers (data, 404 for a missing statement, 422 for the
                # deliberately invalid write bodies) but never refuses the user
                assert answer.status_code not in (401, 403), f"{where}: {answer.text}"
                assert answer.status_code < 500, f"{where}: {answer.text}"
            else:
                # And a role the route does not list is refused
                assert answer.status_code == 403, f"{where}: {answer.status_code}"


def test_the_owner_sees_its_own_order(platform: PlatformClient, placed: dict[str, Any]):
    token = token_of(platform, platform.demo_tenant_id, "owner")
    order_id = placed["order"]["order_id"]
    answer = platform.http.get(
        f"/app/v1/tenants/{platform.demo_tenant_id}/orders/{order_id}",
        headers={"Authorization": token},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["order_id"] == order_id
    # And the other restaurant's own board does not list it
    other = token_of(platform, "outra-pizzaria", "owner")
    board = platform.http.get(
        "/app/v1/tenants/outra-pizzaria/orders", headers={"Authorization": other}
    )
    assert board.status_code == 200, board.text
    assert all(o["order_id"] != order_id for o in board.json()["items"])


def _forged_token(platform: PlatformClient) -> str:
    """A token with the demo owner's claims, signed by a key that is not the pool's."""
    real = token_of(platform, platform.demo_tenant_id, "owner")
    claims = jwt.decode(real, options={"verify_signature": False})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "dummy"})


def _tampered_token(platform: PlatformClient) -> str:
    """The real token with its tenant claim changed (the signature no longer matches)."""
    real = token_of(platform, platform.demo_tenant_id, "owner")
    head, payload, signature = real.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["custom:tenant_id"] = "outra-pizzaria"
    tampered = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{tampered}.{signature}"


def _pool_signed(platform: PlatformClient, **changes: Any) -> str:
    """A token signed with the pool's own key (moto ships it) but one claim wrong: each
    check of the authorizer is needed on its own."""
    real = token_of(platform, platform.demo_tenant_id, "owner")
    claims = {**jwt.decode(real, options={"verify_signature": False}), **changes}
    private = Path(moto.__file__).parent / "cognitoidp" / "resources" / "jwks-private.json.gz"
    key = jwt.PyJWK.from_dict(json.loads(gzip.decompress(private.read_bytes())))
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})


def test_tokens_that_are_not_the_pools_are_unauthorized(platform: PlatformClient):
    path = f"/app/v1/tenants/{platform.demo_tenant_id}/orders"
    now = int(time.time())
    for label, authorization in (
        ("none", None),
        ("admin bearer", f"Bearer {platform.token}"),
        ("forged signature", _forged_token(platform)),
        ("tampered claims", _tampered_token(platform)),
        ("expired", _pool_signed(platform, exp=now - 60, iat=now - 3_660)),
        ("another client", _pool_signed(platform, aud="another-app-client")),
        ("another pool", _pool_signed(platform, iss="https://cognito-idp.x.amazonaws.com/x_y")),
        ("access token", _pool_signed(platform, token_use="access")),
    ):
        headers = {"Authorization": authorization} if authorization else {}
        answer = platform.http.get(path, headers=headers)
        assert answer.status_code == 401, f"{label}: {answer.status_code} {answer.text}"
        assert "items" not in answer.json(), label
    # And the pool-signed control token (nothing changed) is accepted: the checks above
    # fail for their one reason only
    control = platform.http.get(path, headers={"Authorization": _pool_signed(platform)})
    assert control.status_code == 200, control.text


def test_unflagged_admin_routes_do_not_exist_under_app(platform: PlatformClient):
    token = token_of(platform, platform.demo_tenant_id, "owner")
    for method, path in (
        ("GET", "/app/v1/tenants"),
        ("POST", f"/app/v1/tenants/{platform.demo_tenant_id}/credits"),
        ("POST", f"/app/v1/tenants/{platform.demo_tenant_id}/suspend"),
        ("PATCH", f"/app/v1/tenants/{platform.demo_tenant_id}"),
    ):
        answer = platform.http.request(method, path, headers={"Authorization": token}, json={})
        assert answer.status_code in (404, 405), f"{method} {path}: {answer.status_code}"


def test_the_cognito_proxy_refuses_admin_actions(platform: PlatformClient, tmp_path: Path):
    answer = platform.http.post(
        "/_local/cognito",
        headers={
            "X-Amz-Target": "AWSCognitoIdentityProviderService.AdminCreateUser",
            "Content-Type": "application/x-amz-json-1.1",
        },
        content=b"{}",
    )
    assert answer.status_code == 400


def test_an_admin_invites_a_restaurant_user_into_the_tenant_user_pool(platform: PlatformClient):
    import boto3

    tenant = platform.demo_tenant_id
    email = f"garcom-{int(time.time() * 1000)}@pizzaria-demo.local"
    # When an admin invites a waiter as staff
    answer = platform.http.post(
        f"/v1/tenants/{tenant}/users",
        headers=platform.admin,
        json={"email": email, "role": "staff"},
    )
    # Then the user exists in the pool with the tenant and role in its attributes
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "FORCE_CHANGE_PASSWORD"
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=platform.state["aws_endpoint_url"],
        region_name="us-east-1",
        aws_access_key_id="atende-local",
        aws_secret_access_key="atende-local",
    )
    user = cognito.admin_get_user(
        UserPoolId=platform.state["console"]["user_pool_id"], Username=email
    )
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert (attributes["custom:tenant_id"], attributes["custom:role"]) == (tenant, "staff")
    # And inviting the same address again, or into an unknown tenant, is refused
    again = platform.http.post(
        f"/v1/tenants/{tenant}/users", headers=platform.admin, json={"email": email}
    )
    assert again.status_code == 409, again.text
    unknown = platform.http.post(
        "/v1/tenants/nao-existe/users", headers=platform.admin, json={"email": "x@y.com"}
    )
    assert unknown.status_code == 404, unknown.text
    # And a restaurant user cannot invite (the route is not open under /app)
    owner = token_of(platform, tenant, "owner")
    refused = platform.http.post(
        f"/app/v1/tenants/{tenant}/users",
        headers={"Authorization": owner},
        json={"email": "novo@pizzaria-demo.local", "role": "owner"},
    )
    assert refused.status_code in (404, 405), refused.text
