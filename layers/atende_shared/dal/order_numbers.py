"""The kitchen's order numbers: sequential per tenant, unique, allocated atomically.

One counter item per tenant (``TENANT#<id>`` / ``COUNTER#ORDER_NUMBER``) is incremented with
``ADD`` in a single ``UpdateItem``: two allocations never get the same number, whatever
runs them concurrently (voice agents at confirmation, the orders domain for an event that
arrived without one). A number allocated for an order that is then never stored (a crash
between the two) is skipped, never reused: numbers are unique and increasing, with
possible gaps.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from atende_shared.dal import keys
from atende_shared.dal.dynamo import TableStore, storage_call


class OrderNumberAllocator(Protocol):
    def next_number(self, tenant_id: str) -> int:
        """A number never handed out before for this tenant (1, 2, 3...)."""
        ...


class DynamoOrderNumbers(TableStore):
    """:class:`OrderNumberAllocator` on the main table: one atomic counter per tenant."""

    def next_number(self, tenant_id: str) -> int:
        with storage_call("allocate order number"):
            answer = self._table.update_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: keys.ORDER_COUNTER_SK},
                UpdateExpression="ADD next_number :one SET entity = :entity",
                ExpressionAttributeValues={":one": 1, ":entity": "order_counter"},
                ReturnValues="UPDATED_NEW",
            )
        return int(answer["Attributes"]["next_number"])


@cache
def order_numbers(table_name: str) -> DynamoOrderNumbers:
    """The allocator on ``table_name`` (cached per process)."""
    return DynamoOrderNumbers(table_name)
