"""A tenant's own MongoDB as the catalog hub (pymongo; tested with mongomock).

Products: one document per product; field names configurable (``MongoFields``).
Incremental reads use an ``updated_at`` cursor, full mirrors read every document
(``deleted: true`` documents are never live). Orders go to an orders collection with a
unique index on ``platform_order_id``: inserting twice is impossible, so the write-back is
idempotent even when two deliveries race.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from atende_shared.events import OrderPlaced
from functions.sync.logic.connectors.base import SourcePage

SOURCE = "mongodb"


@dataclass(frozen=True)
class MongoFields:
    """Where each catalog field lives in the tenant's documents."""

    id: str = "_id"
    sku: str = "sku"
    name: str = "name"
    price: str = "price"
    price_cents: str = "price_cents"
    description: str = "description"
    category: str = "category"
    stock: str = "stock"
    available: str = "available"
    aliases: str = "aliases"
    options: str = "options"
    updated_at: str = "updated_at"
    deleted: str = "deleted"

    @classmethod
    def from_mapping(cls, data: Mapping[str, str]) -> MongoFields:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


def _naive_utc(moment: datetime) -> datetime:
    # pymongo stores and compares naive datetimes as UTC.
    return moment.astimezone(UTC).replace(tzinfo=None)


class MongoCatalogConnector:
    source = SOURCE

    def __init__(
        self, products: Any, *, fields: MongoFields | None = None, page_limit: int = 500
    ) -> None:
        self._products = products
        self._f = fields or MongoFields()
        self._limit = page_limit

    def record(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        f = self._f
        record: dict[str, Any] = {
            "source_id": str(doc.get(f.id, "")),
            "sku": doc.get(f.sku),
            "name": doc.get(f.name),
            "description": doc.get(f.description) or "",
            "category": doc.get(f.category) or "",
            "stock": doc.get(f.stock),
            "available": bool(doc.get(f.available, True)),
            "aliases": doc.get(f.aliases) or [],
            "options": doc.get(f.options) or [],
        }
        if doc.get(f.price_cents) is not None:
            record["price_cents"] = doc.get(f.price_cents)
        else:
            record["price"] = doc.get(f.price)
        stamp = doc.get(f.updated_at)
        if isinstance(stamp, datetime):
            record["source_version"] = stamp.isoformat()
        return record

    def read_page(
        self, *, mode: Literal["incremental", "full"], page: int, since: datetime | None
    ) -> SourcePage:
        f = self._f
        query: dict[str, Any] = {}
        sort = [(f.id, 1)]
        if mode == "incremental" and since is not None:
            query = {f.updated_at: {"$gte": _naive_utc(since)}}
            sort = [(f.updated_at, 1), (f.id, 1)]
        docs = list(
            self._products.find(query).sort(sort).skip((page - 1) * self._limit).limit(self._limit)
        )
        removed = [str(d.get(f.id)) for d in docs if d.get(f.deleted)]
        return SourcePage(
            records=[self.record(d) for d in docs if not d.get(f.deleted)],
            has_more=len(docs) >= self._limit,
            removed=removed,
        )

    def _find(self, product_id: str) -> Mapping[str, Any] | None:
        doc: Mapping[str, Any] | None = self._products.find_one({self._f.id: product_id})
        if doc is None and self._f.id == "_id":
            from bson import ObjectId
            from bson.errors import InvalidId

            try:
                doc = self._products.find_one({"_id": ObjectId(product_id)})
            except InvalidId:
                return None
        return doc

    def read_product(self, product_id: str) -> dict[str, Any] | None:
        doc = self._find(product_id)
        if doc is None or doc.get(self._f.deleted):
            return None
        return self.record(doc)

    def balances(self, product_ids: list[str]) -> dict[str, float]:
        out: dict[str, float] = {}
        for pid in product_ids:
            doc = self._find(pid)
            if doc is not None and doc.get(self._f.stock) is not None:
                out[pid] = float(doc[self._f.stock])
        return out


class MongoOrderTarget:
    """Orders into the tenant's orders collection, unique on ``platform_order_id``."""

    target = SOURCE

    def __init__(self, orders: Any) -> None:
        self._orders = orders
        orders.create_index("platform_order_id", unique=True)

    def find(self, order_id: str) -> str | None:
        doc = self._orders.find_one({"platform_order_id": order_id}, {"_id": 1})
        return str(doc["_id"]) if doc else None

    def create(self, order: OrderPlaced, product_ids: Mapping[str, str]) -> str:
        from pymongo.errors import DuplicateKeyError

        doc = {
            "platform_order_id": order.order_id,
            "call_id": order.call_id,
            "placed_at": _naive_utc(order.occurred_at),
            "fulfilment": order.fulfilment,
            "delivery_address": order.delivery_address,
            "customer_phone": order.customer_phone,
            "total_cents": order.total_cents,
            "lines": [
                {
                    "item_id": line.item_id,
                    "product_id": product_ids.get(line.item_id),
                    "option_id": line.option_id,
                    "name": line.name,
                    "quantity": line.quantity,
                    "unit_price_cents": line.unit_price_cents,
                    "line_total_cents": line.line_total_cents,
                }
                for line in order.lines
            ],
            "status": "new",
        }
        try:
            return str(self._orders.insert_one(doc).inserted_id)
        except DuplicateKeyError:
            # Another delivery won the race: the unique index kept one copy.
            existing = self.find(order.order_id)
            assert existing is not None
            return existing
