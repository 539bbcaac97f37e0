"""Tenants, agent configs and menus: the interface every domain reads through.

Logic depends on the :class:`TenantStore` protocol; the DynamoDB implementation is built
by :func:`tenant_store` from the validated settings. Tests of logic pass a fake store.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from boto3.dynamodb.conditions import Key

from atende_shared.dal import keys
from atende_shared.dal.dynamo import (
    ConditionFailed,
    TableStore,
    from_item,
    query_items,
    storage_call,
    to_item,
)
from atende_shared.errors import Conflict, NotFound
from atende_shared.models.menu import Menu, MenuItem
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.ports.tenants import StaleTenant, TenantStore, iter_tenants, update_tenant

__all__ = [
    "DynamoTenantStore",
    "StaleTenant",
    "TenantStore",
    "iter_tenants",
    "tenant_store",
    "update_tenant",
]

_META_KEYS = {keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK, "entity"}


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in from_item(item).items() if k not in _META_KEYS}


class DynamoTenantStore(TableStore):
    """:class:`TenantStore` on the main table (see docs/data-model.md)."""

    def _tenant_item(self, tenant: Tenant) -> dict[str, Any]:
        return {
            keys.PK: keys.tenant_pk(tenant.tenant_id),
            keys.SK: keys.PROFILE_SK,
            keys.GSI1_PK: keys.TENANT_LIST_PARTITION,
            keys.GSI1_SK: keys.tenant_pk(tenant.tenant_id),
            "entity": "tenant",
            **to_item(tenant.model_dump(mode="json")),
        }

    def create_tenant(self, tenant: Tenant) -> None:
        try:
            with storage_call("create tenant", conditional=True):
                self._table.put_item(
                    Item=self._tenant_item(tenant),
                    ConditionExpression="attribute_not_exists(PK)",
                )
        except ConditionFailed as exc:
            raise Conflict(f"tenant {tenant.tenant_id!r} already exists") from exc

    def put_tenant(self, tenant: Tenant) -> None:
        self._put(self._tenant_item(tenant), "put tenant")

    def replace_tenant(self, tenant: Tenant, *, expected_version: int) -> None:
        try:
            with storage_call("replace tenant", conditional=True):
                self._table.put_item(
                    Item=self._tenant_item(tenant),
                    # Items written before versions existed have none: version 0.
                    ConditionExpression="attribute_exists(PK) AND "
                    "(version = :v OR (:v = :zero AND attribute_not_exists(version)))",
                    ExpressionAttributeValues={":v": expected_version, ":zero": 0},
                )
        except ConditionFailed as exc:
            raise StaleTenant(tenant.tenant_id) from exc

    def get_tenant(self, tenant_id: str) -> Tenant:
        item = self._get(keys.tenant_pk(tenant_id), keys.PROFILE_SK, "get tenant")
        if item is None:
            raise NotFound(f"tenant {tenant_id!r} not found")
        return Tenant.model_validate(_strip(item))

    def list_tenants(
        self, *, limit: int = 100, cursor: str | None = None
    ) -> tuple[list[Tenant], str | None]:
        query: dict[str, Any] = {
            "IndexName": keys.GSI1,
            "KeyConditionExpression": Key(keys.GSI1_PK).eq(keys.TENANT_LIST_PARTITION),
            "Limit": limit,
        }
        if cursor:
            query["ExclusiveStartKey"] = {
                keys.PK: cursor,
                keys.SK: keys.PROFILE_SK,
                keys.GSI1_PK: keys.TENANT_LIST_PARTITION,
                keys.GSI1_SK: cursor,
            }
        with storage_call("list tenants"):
            answer = self._table.query(**query)
        tenants = [Tenant.model_validate(_strip(i)) for i in answer.get("Items", [])]
        last = answer.get("LastEvaluatedKey")
        return tenants, (last[keys.PK] if last else None)

    def put_agent_config(self, config: AgentConfig) -> None:
        item = {
            keys.PK: keys.tenant_pk(config.tenant_id),
            keys.SK: keys.AGENT_SK,
            "entity": "agent_config",
            **to_item(config.model_dump(mode="json")),
        }
        self._put(item, "put agent config")

    def get_agent_config(self, tenant_id: str) -> AgentConfig:
        item = self._get(keys.tenant_pk(tenant_id), keys.AGENT_SK, "get agent config")
        if item is None:
            return AgentConfig(tenant_id=tenant_id)  # defaults until the admin sets one
        return AgentConfig.model_validate(_strip(item))

    def put_menu(self, tenant_id: str, menu: Menu) -> None:
        """Replace the whole menu: upsert every item, delete items no longer present."""
        pk = keys.tenant_pk(tenant_id)
        wanted = {keys.menu_item_sk(i.item_id): i for i in menu.items}
        existing = set(self._sort_keys(pk, keys.MENU_ITEM_PREFIX))
        with storage_call("put menu"), self._table.batch_writer() as batch:
            for sk, item in wanted.items():
                batch.put_item(
                    Item={
                        keys.PK: pk,
                        keys.SK: sk,
                        "entity": "menu_item",
                        **to_item(item.model_dump(mode="json")),
                    }
                )
            for sk in existing - wanted.keys():
                batch.delete_item(Key={keys.PK: pk, keys.SK: sk})
            batch.put_item(
                Item={
                    keys.PK: pk,
                    keys.SK: keys.MENU_META_SK,
                    "entity": "menu_meta",
                    "currency": menu.currency,
                    "item_count": len(menu.items),
                    # the shared modifier-group library items name by id
                    **to_item(
                        {
                            "modifier_groups": [
                                g.model_dump(mode="json") for g in menu.modifier_groups
                            ]
                        }
                    ),
                }
            )

    def get_menu(self, tenant_id: str) -> Menu:
        pk = keys.tenant_pk(tenant_id)
        items: list[MenuItem] = []
        currency = "BRL"
        groups: list[Any] = []
        for raw in self._query_prefix(pk, "MENU#"):
            if raw[keys.SK] == keys.MENU_META_SK:
                currency = str(raw.get("currency", "BRL"))
                groups = list(_strip(raw).get("modifier_groups") or [])
            else:
                items.append(MenuItem.model_validate(_strip(raw)))
        return Menu.model_validate(
            {"items": items, "currency": currency, "modifier_groups": groups}
        )

    # -- helpers -------------------------------------------------------------------------

    def _put(self, item: dict[str, Any], operation: str) -> None:
        with storage_call(operation):
            self._table.put_item(Item=item)

    def _get(self, pk: str, sk: str, operation: str) -> dict[str, Any] | None:
        with storage_call(operation):
            answer = self._table.get_item(Key={keys.PK: pk, keys.SK: sk}, ConsistentRead=True)
        item = answer.get("Item")
        return dict(item) if item else None

    def _query_prefix(self, pk: str, prefix: str) -> Iterable[dict[str, Any]]:
        condition = Key(keys.PK).eq(pk) & Key(keys.SK).begins_with(prefix)
        return query_items(self._table, "query", KeyConditionExpression=condition)

    def _sort_keys(self, pk: str, prefix: str) -> Iterable[str]:
        return (str(i[keys.SK]) for i in self._query_prefix(pk, prefix))


@cache
def tenant_store(table_name: str) -> TenantStore:
    """The process-wide store for ``table_name`` (built once, on first use)."""
    return DynamoTenantStore(table_name)
