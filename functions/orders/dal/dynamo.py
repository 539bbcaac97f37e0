"""The orders domain on the main table (see docs/data-model.md, "Orders").

Items under ``TENANT#<id>``:

- ``ORDER#<order_id>`` the order. ``GSI2PK = TENANT#<id>#ORDERS``, ``GSI2SK = <placed_at>#<id>``:
  the newest N orders of a tenant are one ``Query`` on GSI2, descending, ``Limit=N``
  (a period is a key range on the same index). While the order is ``received`` and its
  acceptance reminder is pending it is also in the sparse GSI1 partition
  ``ORDERS#AWAITING`` (``GSI1SK = <due>#<tenant>#<id>``), which the reminder schedule reads
  with one query for every tenant.
- ``ORDERNO#<n>`` -> order id (read by number; the condition that keeps numbers unique).
- ``CALLINFO#<call_id>`` the call's outcome and the order it produced.
- ``WEBHOOK#<endpoint_id>`` an order-webhook endpoint.
- ``NOTIFY#<order_id>#<name>`` one delivery (webhook or WhatsApp) with its attempts; failed
  ones are also in GSI1 ``TENANT#<id>#NOTIFY#FAILED`` (the tenant's dead letters).
- ``OPTOUT#<phone>`` (``atende_shared.dal.opt_outs``) a customer who asked for no WhatsApp
  messages.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

from boto3.dynamodb.conditions import Attr, Key

from atende_shared.dal import keys
from atende_shared.dal.dynamo import (
    ConditionFailed,
    TableStore,
    from_item,
    query_pages,
    storage_call,
    to_item,
)
from functions.orders.dal.protocol import (
    CallInfo,
    CreateOutcome,
    OrderFilter,
    Page,
    StaleVersion,
)
from functions.orders.models.notifications import Delivery, WebhookEndpoint
from functions.orders.models.order import Order, StatusChange

AWAITING_PARTITION = "ORDERS#AWAITING"
CALLINFO_PREFIX = "CALLINFO#"
WEBHOOK_PREFIX = "WEBHOOK#"
NOTIFY_PREFIX = "NOTIFY#"
_KEY_ATTRS = (keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK, keys.GSI2_PK, keys.GSI2_SK)
#: A filtered list reads at most this many index pages per request, then answers what it
#: found with a cursor (a page may hold fewer than ``limit`` items, never a hidden gap).
MAX_FILTER_PAGES = 5


def iso(when: datetime) -> str:
    """Fixed-width UTC timestamp: sorts lexicographically as it sorts in time."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def order_sk(order_id: str) -> str:
    return f"{keys.ORDER_PREFIX}{order_id}"


def orders_index_pk(tenant_id: str) -> str:
    return f"{keys.tenant_pk(tenant_id)}#ORDERS"


def failed_index_pk(tenant_id: str) -> str:
    return f"{keys.tenant_pk(tenant_id)}#NOTIFY#FAILED"


def notify_sk(order_id: str, name: str) -> str:
    return f"{NOTIFY_PREFIX}{order_id}#{name}"


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in from_item(item).items() if k not in _KEY_ATTRS}


def _start_key(item: dict[str, Any], index_pk: str, index_sk: str) -> dict[str, Any]:
    return {k: item[k] for k in (keys.PK, keys.SK, index_pk, index_sk)}


class DynamoOrderStore(TableStore):
    """:class:`~functions.orders.dal.protocol.OrderStore` on the main table."""

    # -- helpers -----------------------------------------------------------------------

    def _key(self, tenant_id: str, sk: str) -> dict[str, str]:
        return {keys.PK: keys.tenant_pk(tenant_id), keys.SK: sk}

    def _get(self, tenant_id: str, sk: str) -> dict[str, Any] | None:
        with storage_call(f"get {sk}"):
            answer = self._table.get_item(Key=self._key(tenant_id, sk), ConsistentRead=True)
        item = answer.get("Item")
        return _strip(item) if item else None

    # -- orders ------------------------------------------------------------------------

    def get_order(self, tenant_id: str, order_id: str) -> Order | None:
        item = self._get(tenant_id, order_sk(order_id))
        return Order.model_validate(item) if item else None

    def order_id_by_number(self, tenant_id: str, number: int) -> str | None:
        item = self._get(tenant_id, f"{keys.ORDER_NUMBER_PREFIX}{number}")
        return str(item["order_id"]) if item else None

    def create_order(self, order: Order, *, remind_at: datetime | None) -> CreateOutcome:
        pk = keys.tenant_pk(order.tenant_id)
        body = to_item(order.model_dump(mode="json"))
        body.update(
            {
                keys.PK: pk,
                keys.SK: order_sk(order.order_id),
                "entity": "order",
                keys.GSI2_PK: orders_index_pk(order.tenant_id),
                keys.GSI2_SK: f"{iso(order.placed_at)}#{order.order_id}",
            }
        )
        if remind_at is not None:
            body[keys.GSI1_PK] = AWAITING_PARTITION
            body[keys.GSI1_SK] = f"{iso(remind_at)}#{order.tenant_id}#{order.order_id}"
        name = self._table_name
        items: list[dict[str, Any]] = [
            {
                "Put": {
                    "TableName": name,
                    "Item": body,
                    "ConditionExpression": "attribute_not_exists(#pk)",
                    "ExpressionAttributeNames": {"#pk": keys.PK},
                }
            },
            {
                "Put": {
                    "TableName": name,
                    "Item": {
                        keys.PK: pk,
                        keys.SK: f"{keys.ORDER_NUMBER_PREFIX}{order.order_number}",
                        "entity": "order_number",
                        "order_id": order.order_id,
                    },
                    "ConditionExpression": "attribute_not_exists(#pk) OR order_id = :id",
                    "ExpressionAttributeNames": {"#pk": keys.PK},
                    "ExpressionAttributeValues": {":id": order.order_id},
                }
            },
        ]
        if order.call_id:
            items.append(
                {
                    "Update": {
                        "TableName": name,
                        "Key": {keys.PK: pk, keys.SK: f"{CALLINFO_PREFIX}{order.call_id}"},
                        "UpdateExpression": (
                            "SET order_id = :id, order_number = :n, call_id = :call, entity = :e"
                        ),
                        "ExpressionAttributeValues": {
                            ":id": order.order_id,
                            ":n": order.order_number,
                            ":call": order.call_id,
                            ":e": "call_info",
                        },
                    }
                }
            )
        client = self._table.meta.client
        try:
            with storage_call("create order", conditional=True):
                client.transact_write_items(TransactItems=items)
        except ConditionFailed as lost:
            reasons = lost.response.get("CancellationReasons") or []
            codes = [r.get("Code") for r in reasons]
            if codes[:1] == ["ConditionalCheckFailed"]:
                return "exists"
            if len(codes) > 1 and codes[1] == "ConditionalCheckFailed":
                return "number_taken"
            return "exists" if self.get_order(order.tenant_id, order.order_id) else "number_taken"
        return "created"

    def change_status(
        self,
        order: Order,
        change: StatusChange,
        *,
        expected_version: int,
        reason: str | None,
    ) -> Order:
        values = {
            ":s": change.to_status,
            ":v": change.version,
            ":h": [to_item(change.model_dump(mode="json"))],
            ":u": iso(change.at),
            ":r": reason,
            ":expected": expected_version,
        }
        expression = (
            "SET #s = :s, version = :v, history = list_append(history, :h), "
            "updated_at = :u, status_reason = :r"
        )
        if change.to_status != "received":
            expression += f" REMOVE {keys.GSI1_PK}, {keys.GSI1_SK}"
        try:
            with storage_call("change order status", conditional=True):
                answer = self._table.update_item(
                    Key=self._key(order.tenant_id, order_sk(order.order_id)),
                    UpdateExpression=expression,
                    ConditionExpression="version = :expected",
                    ExpressionAttributeNames={"#s": "status"},
                    ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW",
                )
        except ConditionFailed as lost:
            raise StaleVersion(order.order_id) from lost
        return Order.model_validate(_strip(answer["Attributes"]))

    def mark_announced(self, tenant_id: str, order_id: str) -> None:
        with storage_call("mark order announced"):
            self._table.update_item(
                Key=self._key(tenant_id, order_sk(order_id)),
                UpdateExpression="SET announced = :t",
                ExpressionAttributeValues={":t": True},
            )

    def list_orders(
        self, tenant_id: str, flt: OrderFilter, *, limit: int, after: dict[str, Any] | None
    ) -> Page[Order]:
        condition: Any = Key(keys.GSI2_PK).eq(orders_index_pk(tenant_id))
        if flt.start is not None and flt.end is not None:
            condition = condition & Key(keys.GSI2_SK).between(iso(flt.start), iso(flt.end))
        elif flt.start is not None:
            condition = condition & Key(keys.GSI2_SK).gte(iso(flt.start))
        elif flt.end is not None:
            condition = condition & Key(keys.GSI2_SK).lt(iso(flt.end))
        query: dict[str, Any] = {
            "IndexName": keys.GSI2,
            "KeyConditionExpression": condition,
            "ScanIndexForward": False,
        }
        filters = []
        if flt.status is not None:
            filters.append(Attr("status").eq(flt.status))
        if flt.channel is not None:
            filters.append(Attr("channel").eq(flt.channel))
        if filters:
            expression: Any = filters[0]
            for extra in filters[1:]:
                expression = expression & extra
            query["FilterExpression"] = expression
            query["Limit"] = max(limit, 100)
        else:
            query["Limit"] = limit  # the unfiltered newest page: exactly one query
        if after:
            query["ExclusiveStartKey"] = after
        found: list[dict[str, Any]] = []
        last_key: dict[str, Any] | None = None
        for pages, page in enumerate(query_pages(self._table, "list orders", **query), 1):
            items = page.get("Items", [])
            room = limit - len(found)
            found.extend(items[:room])
            if len(items) > room or (len(found) == limit and page.get("LastEvaluatedKey")):
                last_key = _start_key(found[-1], keys.GSI2_PK, keys.GSI2_SK)
                break
            last_key = page.get("LastEvaluatedKey")
            if len(found) >= limit or pages >= MAX_FILTER_PAGES:
                break
        orders = [Order.model_validate(_strip(i)) for i in found]
        return Page(items=orders, position=from_item(last_key) if last_key else None)

    # -- acceptance-window index ---------------------------------------------------------

    def due_for_reminder(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        condition = Key(keys.GSI1_PK).eq(AWAITING_PARTITION) & Key(keys.GSI1_SK).lte(f"{iso(now)}$")
        due: list[tuple[str, str]] = []
        for page in query_pages(
            self._table,
            "orders due for a reminder",
            IndexName=keys.GSI1,
            KeyConditionExpression=condition,
            Limit=min(limit, 500),
        ):
            for item in page.get("Items", []):
                due.append((str(item["tenant_id"]), str(item["order_id"])))
            if len(due) >= limit:
                break
        return due[:limit]

    def set_reminder(
        self, tenant_id: str, order_id: str, *, reminded_at: datetime, next_due: datetime | None
    ) -> None:
        values: dict[str, Any] = {":at": iso(reminded_at), ":received": "received"}
        if next_due is None:
            expression = f"SET reminded_at = :at REMOVE {keys.GSI1_PK}, {keys.GSI1_SK}"
        else:
            expression = "SET reminded_at = :at, #g1sk = :due"
            values[":due"] = f"{iso(next_due)}#{tenant_id}#{order_id}"
        names = {"#s": "status"}
        if next_due is not None:
            names["#g1sk"] = keys.GSI1_SK
        try:
            with storage_call("set order reminder", conditional=True):
                self._table.update_item(
                    Key=self._key(tenant_id, order_sk(order_id)),
                    UpdateExpression=expression,
                    ConditionExpression="#s = :received",
                    ExpressionAttributeNames=names,
                    ExpressionAttributeValues=values,
                )
        except ConditionFailed:
            return  # accepted meanwhile: the status change already left the index

    def drop_reminder(self, tenant_id: str, order_id: str) -> None:
        with storage_call("drop order reminder"):
            self._table.update_item(
                Key=self._key(tenant_id, order_sk(order_id)),
                UpdateExpression=f"REMOVE {keys.GSI1_PK}, {keys.GSI1_SK}",
            )

    # -- calls -------------------------------------------------------------------------

    def put_call_info(self, tenant_id: str, info: CallInfo) -> None:
        values: dict[str, Any] = {":call": info.call_id, ":e": "call_info"}
        sets = ["call_id = :call", "entity = :e"]
        for field_name in ("outcome", "summary"):
            value = getattr(info, field_name)
            if value is not None:
                values[f":{field_name}"] = value
                sets.append(f"{field_name} = :{field_name}")
        with storage_call("record call outcome"):
            self._table.update_item(
                Key=self._key(tenant_id, f"{CALLINFO_PREFIX}{info.call_id}"),
                UpdateExpression="SET " + ", ".join(sets),
                ExpressionAttributeValues=values,
            )

    def get_call_info(self, tenant_id: str, call_id: str) -> CallInfo | None:
        item = self._get(tenant_id, f"{CALLINFO_PREFIX}{call_id}")
        return _call_info(item) if item else None

    def get_call_infos(self, tenant_id: str, call_ids: list[str]) -> dict[str, CallInfo]:
        wanted = list(dict.fromkeys(call_ids))
        found: dict[str, CallInfo] = {}
        resource = self._table.meta.client
        for start in range(0, len(wanted), 100):
            chunk = wanted[start : start + 100]
            request: dict[str, Any] = {
                self._table_name: {
                    # The resource's client serialises plain values (boto3 injects it).
                    "Keys": [
                        {keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{CALLINFO_PREFIX}{c}"}
                        for c in chunk
                    ]
                }
            }
            while request:
                with storage_call("read call outcomes"):
                    answer = resource.batch_get_item(RequestItems=request)
                for raw in answer.get("Responses", {}).get(self._table_name, []):
                    info = _call_info(from_item(raw))
                    found[info.call_id] = info
                request = answer.get("UnprocessedKeys") or {}
        return found

    # -- webhook endpoints ---------------------------------------------------------------

    def put_endpoint(self, endpoint: WebhookEndpoint) -> None:
        item = to_item(endpoint.model_dump(mode="json"))
        item.update(self._key(endpoint.tenant_id, f"{WEBHOOK_PREFIX}{endpoint.endpoint_id}"))
        item["entity"] = "webhook_endpoint"
        with storage_call("put webhook endpoint"):
            self._table.put_item(Item=item)

    def list_endpoints(self, tenant_id: str) -> list[WebhookEndpoint]:
        condition = Key(keys.PK).eq(keys.tenant_pk(tenant_id)) & Key(keys.SK).begins_with(
            WEBHOOK_PREFIX
        )
        endpoints: list[WebhookEndpoint] = []
        for page in query_pages(
            self._table, "list webhook endpoints", KeyConditionExpression=condition
        ):
            endpoints.extend(
                WebhookEndpoint.model_validate(_strip(i)) for i in page.get("Items", [])
            )
        return endpoints

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        with storage_call("delete webhook endpoint"):
            answer = self._table.delete_item(
                Key=self._key(tenant_id, f"{WEBHOOK_PREFIX}{endpoint_id}"), ReturnValues="ALL_OLD"
            )
        return bool(answer.get("Attributes"))

    # -- deliveries --------------------------------------------------------------------

    def _delivery_item(self, delivery: Delivery) -> dict[str, Any]:
        item = to_item(delivery.model_dump(mode="json"))
        item.update(self._key(delivery.tenant_id, notify_sk(delivery.order_id, delivery.name)))
        item["entity"] = "delivery"
        if delivery.status == "failed":
            item[keys.GSI1_PK] = failed_index_pk(delivery.tenant_id)
            item[keys.GSI1_SK] = f"{iso(delivery.updated_at)}#{delivery.delivery_id}"
        return item

    def create_delivery(self, delivery: Delivery) -> bool:
        try:
            with storage_call("create delivery", conditional=True):
                self._table.put_item(
                    Item=self._delivery_item(delivery),
                    ConditionExpression="attribute_not_exists(#pk)",
                    ExpressionAttributeNames={"#pk": keys.PK},
                )
        except ConditionFailed:
            return False
        return True

    def get_delivery(self, tenant_id: str, order_id: str, name: str) -> Delivery | None:
        item = self._get(tenant_id, notify_sk(order_id, name))
        return Delivery.model_validate(item) if item else None

    def save_delivery(self, delivery: Delivery) -> None:
        with storage_call("save delivery"):
            self._table.put_item(Item=self._delivery_item(delivery))

    def deliveries_for_order(self, tenant_id: str, order_id: str) -> list[Delivery]:
        condition = Key(keys.PK).eq(keys.tenant_pk(tenant_id)) & Key(keys.SK).begins_with(
            f"{NOTIFY_PREFIX}{order_id}#"
        )
        found: list[Delivery] = []
        for page in query_pages(
            self._table, "deliveries of an order", KeyConditionExpression=condition
        ):
            found.extend(Delivery.model_validate(_strip(i)) for i in page.get("Items", []))
        return sorted(found, key=lambda d: d.created_at)

    def list_deliveries(
        self, tenant_id: str, *, failed_only: bool, limit: int, after: dict[str, Any] | None
    ) -> Page[Delivery]:
        if failed_only:
            query: dict[str, Any] = {
                "IndexName": keys.GSI1,
                "KeyConditionExpression": Key(keys.GSI1_PK).eq(failed_index_pk(tenant_id)),
                "ScanIndexForward": False,
            }
            index_keys: tuple[str, str] | None = (keys.GSI1_PK, keys.GSI1_SK)
        else:
            query = {
                "KeyConditionExpression": Key(keys.PK).eq(keys.tenant_pk(tenant_id))
                & Key(keys.SK).begins_with(NOTIFY_PREFIX),
            }
            index_keys = None
        query["Limit"] = limit
        if after:
            query["ExclusiveStartKey"] = after
        with storage_call("list deliveries"):
            answer = self._table.query(**query)
        items = answer.get("Items", [])
        last = answer.get("LastEvaluatedKey")
        if last and index_keys and items:
            last = _start_key(items[-1], *index_keys)
        return Page(
            items=[Delivery.model_validate(_strip(i)) for i in items],
            position=from_item(last) if last else None,
        )


def _call_info(item: dict[str, Any]) -> CallInfo:
    return CallInfo(
        call_id=str(item["call_id"]),
        outcome=item.get("outcome"),
        summary=item.get("summary"),
        order_id=item.get("order_id"),
        order_number=int(item["order_number"]) if item.get("order_number") else None,
    )


@cache
def order_store(table_name: str) -> DynamoOrderStore:
    return DynamoOrderStore(table_name)
