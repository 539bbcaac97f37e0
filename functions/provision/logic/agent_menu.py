"""Agent configuration and direct menu uploads (tenants without an ERP)."""

from __future__ import annotations

import hashlib
import json

from atende_shared.events import CatalogChanged
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig
from atende_shared.ports.messaging import EventPublisher
from atende_shared.ports.tenants import TenantStore
from functions.provision.models.api import AgentConfigInput


def put_agent_config(store: TenantStore, tenant_id: str, body: AgentConfigInput) -> AgentConfig:
    store.get_tenant(tenant_id)
    config = AgentConfig(tenant_id=tenant_id, **body.model_dump())
    store.put_agent_config(config)
    return config


def get_agent_config(store: TenantStore, tenant_id: str) -> AgentConfig:
    store.get_tenant(tenant_id)
    return store.get_agent_config(tenant_id)


def menu_version(menu: Menu) -> str:
    """A content hash: the same menu always has the same version."""
    canonical = json.dumps(menu.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def put_menu(
    store: TenantStore,
    publisher: EventPublisher,
    tenant_id: str,
    menu: Menu,
    *,
    correlation_id: str,
) -> tuple[Menu, str, bool]:
    """Replace the menu; publish ``CatalogChanged`` only if something changed.

    Returns the menu, its version and whether it changed.
    """
    store.get_tenant(tenant_id)
    before = store.get_menu(tenant_id)
    version = menu_version(menu)
    if menu_version(before) == version:
        return menu, version, False
    old = before.by_id()
    new = menu.by_id()
    upserted = sum(1 for item_id, item in new.items() if old.get(item_id) != item)
    removed = len(old.keys() - new.keys())
    store.put_menu(tenant_id, menu)
    publisher.publish(
        [
            CatalogChanged(
                tenant_id=tenant_id,
                correlation_id=correlation_id,
                source="manual",
                items_upserted=upserted,
                items_removed=removed,
                menu_version=version,
            )
        ]
    )
    return menu, version, True


def get_menu(store: TenantStore, tenant_id: str) -> tuple[Menu, str]:
    store.get_tenant(tenant_id)
    menu = store.get_menu(tenant_id)
    return menu, menu_version(menu)
