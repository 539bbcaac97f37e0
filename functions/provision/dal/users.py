"""Restaurant users in the Cognito user pool (``ATENDE_TENANT_USER_POOL_ID``)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import client
from atende_shared.errors import Conflict, DependencyUnavailable, ValidationFailed
from functions.provision.models.users import TenantUserView, UserInvite


class CognitoUserDirectory:
    """``logic.users.UserDirectory`` on Cognito: AdminCreateUser with
    ``custom:tenant_id`` and ``custom:role`` (only admins write them: the console's app
    client cannot)."""

    def __init__(self, user_pool_id: str) -> None:
        self.user_pool_id = user_pool_id

    def invite(self, tenant_id: str, invite: UserInvite) -> TenantUserView:
        try:
            answer = client("cognito-idp").admin_create_user(
                UserPoolId=self.user_pool_id,
                Username=invite.email,
                UserAttributes=[
                    {"Name": "email", "Value": invite.email},
                    {"Name": "email_verified", "Value": "true"},
                    {"Name": "custom:tenant_id", "Value": tenant_id},
                    {"Name": "custom:role", "Value": invite.role},
                ],
                DesiredDeliveryMediums=["EMAIL"],
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code == "UsernameExistsException":
                raise Conflict(f"a user {invite.email} already exists") from exc
            if code == "InvalidParameterException":
                raise ValidationFailed(
                    "request failed validation",
                    details={"fields": [{"field": "email", "problem": "Cognito refused it"}]},
                ) from exc
            raise DependencyUnavailable(f"Cognito AdminCreateUser failed: {exc}") from exc
        except BotoCoreError as exc:
            raise DependencyUnavailable(f"Cognito unreachable: {exc}") from exc
        user = answer["User"]
        return TenantUserView(
            username=str(user["Username"]),
            email=invite.email,
            tenant_id=tenant_id,
            role=invite.role,
            status=str(user.get("UserStatus", "FORCE_CHANGE_PASSWORD")),
        )
