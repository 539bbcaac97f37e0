"""Restaurant users locally: moto's Cognito user pool, and the token check API Gateway does.

In AWS the console signs in against a Cognito user pool (``infra_cdk/constructs/console.py``)
and API Gateway's Cognito authorizer guards ``/app/...``: it accepts an **ID token** in the
``Authorization`` header, checks its RS256 signature against the pool's JWKS, its issuer
(``https://cognito-idp.<region>.amazonaws.com/<pool id>``), ``token_use`` = ``id``, its
audience (the app client id) and its expiry, and hands the claims to the Lambda as
``requestContext.authorizer.claims`` (every value a string). :class:`CognitoVerifier` does
exactly that with PyJWT against the JWKS moto's pool publishes, so the same handlers and the
same resolver check run locally.

Also here: creating the pool, its app client (no secret: a browser cannot keep one) and the
seeded users, and the allow-list of Cognito JSON API actions the local gateway forwards to
moto for the browser (``/_local/cognito``): sign-in only, never the ``Admin*`` actions.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import jwt

from atende_shared.aws import client

#: The Cognito JSON API actions the browser may call through the local proxy.
PUBLIC_COGNITO_ACTIONS = frozenset(
    {"InitiateAuth", "RespondToAuthChallenge", "GetUser", "GlobalSignOut", "RevokeToken"}
)
COGNITO_TARGET_PREFIX = "AWSCognitoIdentityProviderService."
TENANT_ATTRIBUTES = ("tenant_id", "role")


class TokenRejected(Exception):
    """The token is missing, forged, expired or not an ID token of this pool's client.
    The reason is logged; the caller gets a bare 401 (as from API Gateway)."""


@dataclass(frozen=True)
class ConsoleUser:
    username: str
    password: str
    tenant_id: str
    role: str


@dataclass
class UserPool:
    region: str
    user_pool_id: str
    client_id: str
    users: list[ConsoleUser] = field(default_factory=list)

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.{self.region}.amazonaws.com/{self.user_pool_id}"


def create_user_pool(name: str, *, region: str) -> UserPool:
    """The tenant-user pool as the CDK declares it: custom ``tenant_id`` and ``role``
    attributes (immutable for the user: only admins write them), an app client without a
    secret allowing USER_PASSWORD_AUTH and SRP."""
    cognito = client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=name,
        UsernameAttributes=["email"],
        Schema=[
            {
                "Name": attribute,
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "64"},
            }
            for attribute in TENANT_ATTRIBUTES
        ],
        Policies={"PasswordPolicy": {"MinimumLength": 12}},
    )["UserPool"]
    app_client = cognito.create_user_pool_client(
        UserPoolId=pool["Id"],
        ClientName=f"{name}-console",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH"],
        ReadAttributes=["email", "custom:tenant_id", "custom:role"],
        WriteAttributes=["email"],
    )["UserPoolClient"]
    return UserPool(region=region, user_pool_id=pool["Id"], client_id=app_client["ClientId"])


def create_user(pool: UserPool, user: ConsoleUser) -> None:
    """An invited user (AdminCreateUser with the tenant attributes), with a permanent
    password so the demo can sign in at once."""
    cognito = client("cognito-idp")
    cognito.admin_create_user(
        UserPoolId=pool.user_pool_id,
        Username=user.username,
        UserAttributes=[
            {"Name": "email", "Value": user.username},
            {"Name": "email_verified", "Value": "true"},
            {"Name": "custom:tenant_id", "Value": user.tenant_id},
            {"Name": "custom:role", "Value": user.role},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(
        UserPoolId=pool.user_pool_id,
        Username=user.username,
        Password=user.password,
        Permanent=True,
    )
    pool.users.append(user)


def sign_in(pool: UserPool, username: str, password: str) -> str:
    """The ID token for a user (USER_PASSWORD_AUTH, as the console does)."""
    answer = client("cognito-idp").initiate_auth(
        ClientId=pool.client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": password},
    )
    return str(answer["AuthenticationResult"]["IdToken"])


def fetch_jwks(aws_endpoint_url: str, pool: UserPool) -> dict[str, Any]:
    """The pool's public keys, from moto's ``/<pool>/.well-known/jwks.json`` (moto routes
    by the Cognito host name, as the real endpoint is)."""
    answer = httpx.get(
        f"{aws_endpoint_url}/{pool.user_pool_id}/.well-known/jwks.json",
        headers={"Host": f"cognito-idp.{pool.region}.amazonaws.com"},
        timeout=10.0,
    )
    answer.raise_for_status()
    return dict(answer.json())


class CognitoVerifier:
    """API Gateway's Cognito user pool authorizer, for the local gateway."""

    def __init__(self, pool: UserPool, jwks: dict[str, Any]) -> None:
        self.pool = pool
        self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(jwks).keys}

    def verify(self, authorization: str | None) -> dict[str, str]:
        """The token's claims (values as strings, as API Gateway passes them)."""
        token = (authorization or "").strip()
        if token.lower().startswith("bearer "):
            token = token[7:].strip()
        if not token:
            raise TokenRejected("no token in the Authorization header")
        try:
            header = jwt.get_unverified_header(token)
            key = self._keys.get(str(header.get("kid")))
            if key is None:
                raise TokenRejected(f"unknown signing key {header.get('kid')!r}")
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=["RS256"],
                audience=self.pool.client_id,
                issuer=self.pool.issuer,
                options={"require": ["exp", "iss", "aud", "token_use", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(f"{type(exc).__name__}: {exc}") from exc
        if claims.get("token_use") != "id":
            raise TokenRejected(f"token_use is {claims.get('token_use')!r}, not 'id'")
        return {
            name: value if isinstance(value, str) else json.dumps(value)
            for name, value in claims.items()
        }


def cognito_target(headers: list[tuple[str, str]] | tuple[tuple[str, str], ...]) -> str | None:
    """The action of a Cognito JSON API call (``X-Amz-Target``), if it is one."""
    for key, value in headers:
        if key.lower() == "x-amz-target" and value.startswith(COGNITO_TARGET_PREFIX):
            return value.removeprefix(COGNITO_TARGET_PREFIX)
    return None
