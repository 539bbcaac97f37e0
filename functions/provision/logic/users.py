"""Inviting restaurant users: only to a tenant that exists."""

from __future__ import annotations

from atende_shared.dal.tenants import TenantStore
from functions.provision.dal.users import UserDirectory
from functions.provision.models.users import TenantUserView, UserInvite


def invite_user(
    store: TenantStore, directory: UserDirectory, tenant_id: str, invite: UserInvite
) -> TenantUserView:
    store.get_tenant(tenant_id)  # NotFound for an unknown tenant
    return directory.invite(tenant_id, invite.model_copy(update={"email": invite.email.lower()}))
