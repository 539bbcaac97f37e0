"""Inviting restaurant users: only to a tenant that exists."""

from __future__ import annotations

from typing import Protocol

from atende_shared.ports.tenants import TenantStore
from functions.provision.models.users import TenantUserView, UserInvite


class UserDirectory(Protocol):
    """Where restaurant users live (``dal.users.CognitoUserDirectory`` in AWS and locally)."""

    def invite(self, tenant_id: str, invite: UserInvite) -> TenantUserView:
        """Create the user with its tenant and role; the directory sends the invitation."""
        ...


def invite_user(
    store: TenantStore, directory: UserDirectory, tenant_id: str, invite: UserInvite
) -> TenantUserView:
    store.get_tenant(tenant_id)  # NotFound for an unknown tenant
    return directory.invite(tenant_id, invite.model_copy(update={"email": invite.email.lower()}))
