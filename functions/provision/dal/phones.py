"""Phone numbers on the main table: one item per number under its tenant, one global claim.

Keys (see docs/provisioning.md):

- ``PK=TENANT#<t>  SK=PHONE#<e164>``, ``GSI1PK=PHONE#<e164> GSI1SK=TENANT#<t>``: the
  tenant's view of its number. Every API read goes through the tenant's partition, so a
  call for tenant A can never return B's numbers.
- ``PK=PHONE#<e164> SK=CLAIM`` with ``tenant_id``: the single owner of a number across
  tenants. Written in the same transaction as the phone item with
  ``attribute_not_exists(PK) OR tenant_id = :me``, so two tenants racing for one number
  cannot both win. It is internal: the API never returns it.
"""

from __future__ import annotations

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
    storage_error,
    to_item,
)
from functions.provision.dal.protocol import PhoneStore, require
from functions.provision.models.api import PhoneStatus
from functions.provision.models.errors import NumberOwnedElsewhere
from functions.provision.models.phone import PhoneRecord

__all__ = ["DynamoPhoneStore", "PhoneStore", "claim_key", "phone_store", "require"]

CLAIM_SK = "CLAIM"
_META = {keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK, "entity"}


def claim_key(number: str) -> dict[str, str]:
    return {keys.PK: keys.phone_lookup_pk(number), keys.SK: CLAIM_SK}


class DynamoPhoneStore(TableStore):
    def _item(self, record: PhoneRecord) -> dict[str, Any]:
        return {
            keys.PK: keys.tenant_pk(record.tenant_id),
            keys.SK: keys.phone_sk(record.number),
            keys.GSI1_PK: keys.phone_lookup_pk(record.number),
            keys.GSI1_SK: keys.tenant_pk(record.tenant_id),
            "entity": "phone",
            **to_item(record.model_dump(mode="json")),
        }

    def claim(self, record: PhoneRecord) -> PhoneRecord:
        existing = self.get(record.tenant_id, record.number)
        if existing is not None:
            return existing
        client = self._table.meta.client
        claim_and_phone = [
            {
                "Put": {
                    "TableName": self._table_name,
                    "Item": {
                        **claim_key(record.number),
                        "entity": "phone_claim",
                        "tenant_id": record.tenant_id,
                    },
                    "ConditionExpression": "attribute_not_exists(PK) OR tenant_id = :me",
                    "ExpressionAttributeValues": {":me": record.tenant_id},
                }
            },
            {
                "Put": {
                    "TableName": self._table_name,
                    "Item": self._item(record),
                    "ConditionExpression": "attribute_not_exists(PK)",
                }
            },
        ]
        try:
            with storage_call("claim number", conditional=True):
                client.transact_write_items(TransactItems=claim_and_phone)
        except ConditionFailed as exc:
            reasons = exc.response.get("CancellationReasons") or []
            claim_lost = bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"
            if claim_lost or self.owner(record.number) not in (None, record.tenant_id):
                raise NumberOwnedElsewhere(
                    f"{record.number} is assigned to another tenant"
                ) from exc
            # Our own concurrent assign won the race: answer with what it stored.
            stored = self.get(record.tenant_id, record.number)
            if stored is None:
                raise storage_error("claim number", exc.error) from exc
            return stored
        return record

    def get(self, tenant_id: str, number: str) -> PhoneRecord | None:
        with storage_call("get phone"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: keys.phone_sk(number)},
                ConsistentRead=True,
            )
        item = answer.get("Item")
        return _record(item) if item else None

    def list_for_tenant(self, tenant_id: str) -> list[PhoneRecord]:
        condition = Key(keys.PK).eq(keys.tenant_pk(tenant_id)) & Key(keys.SK).begins_with(
            keys.PHONE_PREFIX
        )
        items = query_items(
            self._table, "list phones", KeyConditionExpression=condition, ConsistentRead=True
        )
        return [_record(i) for i in items]

    def save(self, record: PhoneRecord, *, unless_releasing: bool = False) -> bool:
        request: dict[str, Any] = {"Item": self._item(record)}
        if unless_releasing:
            request["ConditionExpression"] = "attribute_exists(PK) AND #s <> :releasing"
            request["ExpressionAttributeNames"] = {"#s": "status"}
            request["ExpressionAttributeValues"] = {":releasing": PhoneStatus.RELEASING.value}
        try:
            # Without the condition a lost check cannot happen: any failure is a 503.
            with storage_call("save phone", conditional=unless_releasing):
                self._table.put_item(**request)
        except ConditionFailed:
            return False
        return True

    def delete(self, tenant_id: str, number: str) -> None:
        client = self._table.meta.client
        phone_key = {keys.PK: keys.tenant_pk(tenant_id), keys.SK: keys.phone_sk(number)}
        try:
            with storage_call("delete phone", conditional=True):
                client.delete_item(TableName=self._table_name, Key=phone_key)
                client.delete_item(
                    TableName=self._table_name,
                    Key=claim_key(number),
                    ConditionExpression="attribute_not_exists(PK) OR tenant_id = :me",
                    ExpressionAttributeValues={":me": tenant_id},
                )
        except ConditionFailed:
            return  # the claim is someone else's now: leave it alone

    def owner(self, number: str) -> str | None:
        with storage_call("get phone claim"):
            answer = self._table.get_item(Key=claim_key(number), ConsistentRead=True)
        item = answer.get("Item")
        return str(item["tenant_id"]) if item else None


def _record(item: dict[str, Any]) -> PhoneRecord:
    return PhoneRecord.model_validate({k: v for k, v in from_item(item).items() if k not in _META})


@cache
def phone_store(table_name: str) -> PhoneStore:
    return DynamoPhoneStore(table_name)
