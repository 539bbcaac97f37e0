"""Customers per tenant, by phone: the name kept, the last order for "o de sempre".

Behind :class:`CustomerStore` (logic and the ordering channels use the protocol); the
DynamoDB implementation keeps one item per customer on the main table
(``TENANT#<id>`` / ``CUSTOMER#<e164>``), so a tenant's customers never mix with another's
and deleting one (LGPD) is one ``DeleteItem``.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from atende_shared.dal import keys
from atende_shared.dal.dynamo import TableStore, from_item, storage_call, to_item
from atende_shared.models.customer import Customer

CUSTOMER_PREFIX = "CUSTOMER#"


def customer_sk(phone: str) -> str:
    return f"{CUSTOMER_PREFIX}{phone}"


class CustomerStore(Protocol):
    def get(self, tenant_id: str, phone: str) -> Customer | None: ...
    def put(self, customer: Customer) -> None: ...
    def delete(self, tenant_id: str, phone: str) -> bool:
        """Forget the customer; ``True`` when there was one."""
        ...


class DynamoCustomers(TableStore):
    """:class:`CustomerStore` on the main table."""

    def get(self, tenant_id: str, phone: str) -> Customer | None:
        with storage_call("get customer"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: customer_sk(phone)}
            )
        item = answer.get("Item")
        if item is None:
            return None
        data = {k: v for k, v in from_item(item).items() if k not in (keys.PK, keys.SK, "entity")}
        return Customer.model_validate(data)

    def put(self, customer: Customer) -> None:
        with storage_call("put customer"):
            self._table.put_item(
                Item={
                    keys.PK: keys.tenant_pk(customer.tenant_id),
                    keys.SK: customer_sk(customer.phone),
                    "entity": "customer",
                    **to_item(customer.model_dump(mode="json")),
                }
            )

    def delete(self, tenant_id: str, phone: str) -> bool:
        with storage_call("delete customer"):
            answer = self._table.delete_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: customer_sk(phone)},
                ReturnValues="ALL_OLD",
            )
        return "Attributes" in answer


@cache
def customer_store(table_name: str) -> DynamoCustomers:
    """The store on ``table_name`` (cached per process)."""
    return DynamoCustomers(table_name)
