"""An in-memory ``OrderStore`` with the DynamoDB store's semantics (conditional create,
version-conditioned status changes, the reminder index, dead letters), so the logic tests
run without moto; the same tests also run on moto (``world`` is parametrised)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from functions.orders.dal.dynamo import iso
from functions.orders.dal.protocol import CallInfo, CreateOutcome, OrderFilter, Page, StaleVersion
from functions.orders.models.notifications import Delivery, WebhookEndpoint
from functions.orders.models.order import Order, StatusChange


class FakeOrderStore:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.orders: dict[tuple[str, str], Order] = {}
        self.numbers: dict[tuple[str, int], str] = {}
        self.awaiting: dict[tuple[str, str], datetime] = {}
        self.calls: dict[tuple[str, str], CallInfo] = {}
        self.endpoints: dict[tuple[str, str], WebhookEndpoint] = {}
        self.deliveries: dict[tuple[str, str, str], Delivery] = {}

    # -- orders ------------------------------------------------------------------------
    def get_order(self, tenant_id: str, order_id: str) -> Order | None:
        return self.orders.get((tenant_id, order_id))

    def order_id_by_number(self, tenant_id: str, number: int) -> str | None:
        return self.numbers.get((tenant_id, number))

    def create_order(self, order: Order, *, remind_at: datetime | None) -> CreateOutcome:
        key = (order.tenant_id, order.order_id)
        with self._lock:
            if key in self.orders:
                return "exists"
            owner = self.numbers.get((order.tenant_id, order.order_number))
            if owner not in (None, order.order_id):
                return "number_taken"
            self.orders[key] = order
            self.numbers[(order.tenant_id, order.order_number)] = order.order_id
            if remind_at is not None:
                self.awaiting[key] = remind_at
            if order.call_id:
                old = self.calls.get((order.tenant_id, order.call_id))
                self.calls[(order.tenant_id, order.call_id)] = CallInfo(
                    call_id=order.call_id,
                    outcome=old.outcome if old else None,
                    summary=old.summary if old else None,
                    order_id=order.order_id,
                    order_number=order.order_number,
                )
        return "created"

    def change_status(
        self, order: Order, change: StatusChange, *, expected_version: int, reason: str | None
    ) -> Order:
        key = (order.tenant_id, order.order_id)
        with self._lock:
            stored = self.orders[key]
            if stored.version != expected_version:
                raise StaleVersion(order.order_id)
            updated = stored.model_copy(
                update={
                    "status": change.to_status,
                    "version": change.version,
                    "history": [*stored.history, change],
                    "updated_at": change.at,
                    "status_reason": reason,
                }
            )
            self.orders[key] = updated
            if change.to_status != "received":
                self.awaiting.pop(key, None)
        return updated

    def mark_announced(self, tenant_id: str, order_id: str) -> None:
        key = (tenant_id, order_id)
        self.orders[key] = self.orders[key].model_copy(update={"announced": True})

    def list_orders(
        self, tenant_id: str, flt: OrderFilter, *, limit: int, after: dict[str, Any] | None
    ) -> Page[Order]:
        mine = sorted(
            (o for (t, _), o in self.orders.items() if t == tenant_id),
            key=lambda o: (iso(o.placed_at), o.order_id),
            reverse=True,
        )
        if after:
            mine = [o for o in mine if (iso(o.placed_at), o.order_id) < tuple(after["at"])]
        found = [
            o
            for o in mine
            if (flt.status is None or o.status == flt.status)
            and (flt.channel is None or o.channel == flt.channel)
            and (flt.start is None or o.placed_at >= flt.start)
            and (flt.end is None or o.placed_at < flt.end)
        ]
        page = found[:limit]
        position = (
            {"at": [iso(page[-1].placed_at), page[-1].order_id]} if len(found) > limit else None
        )
        return Page(items=page, position=position)

    # -- reminders ---------------------------------------------------------------------
    def due_for_reminder(self, now: datetime, *, limit: int) -> list[tuple[str, str]]:
        due = sorted((at, key) for key, at in self.awaiting.items() if at <= now)
        return [key for _, key in due][:limit]

    def set_reminder(
        self, tenant_id: str, order_id: str, *, reminded_at: datetime, next_due: datetime | None
    ) -> None:
        key = (tenant_id, order_id)
        order = self.orders[key]
        if order.status != "received":
            return
        self.orders[key] = order.model_copy(update={"reminded_at": reminded_at})
        if next_due is None:
            self.awaiting.pop(key, None)
        else:
            self.awaiting[key] = next_due

    def drop_reminder(self, tenant_id: str, order_id: str) -> None:
        self.awaiting.pop((tenant_id, order_id), None)

    # -- calls -------------------------------------------------------------------------
    def put_call_info(self, tenant_id: str, info: CallInfo) -> None:
        old = self.calls.get((tenant_id, info.call_id))
        self.calls[(tenant_id, info.call_id)] = CallInfo(
            call_id=info.call_id,
            outcome=info.outcome or (old.outcome if old else None),
            summary=info.summary or (old.summary if old else None),
            order_id=old.order_id if old else None,
            order_number=old.order_number if old else None,
        )

    def get_call_info(self, tenant_id: str, call_id: str) -> CallInfo | None:
        return self.calls.get((tenant_id, call_id))

    def get_call_infos(self, tenant_id: str, call_ids: list[str]) -> dict[str, CallInfo]:
        return {c: self.calls[(tenant_id, c)] for c in call_ids if (tenant_id, c) in self.calls}

    # -- endpoints ---------------------------------------------------------------------
    def put_endpoint(self, endpoint: WebhookEndpoint) -> None:
        self.endpoints[(endpoint.tenant_id, endpoint.endpoint_id)] = endpoint

    def list_endpoints(self, tenant_id: str) -> list[WebhookEndpoint]:
        return [e for (t, _), e in sorted(self.endpoints.items()) if t == tenant_id]

    def delete_endpoint(self, tenant_id: str, endpoint_id: str) -> bool:
        return self.endpoints.pop((tenant_id, endpoint_id), None) is not None

    # -- deliveries --------------------------------------------------------------------
    def create_delivery(self, delivery: Delivery) -> bool:
        key = (delivery.tenant_id, delivery.order_id, delivery.name)
        with self._lock:
            if key in self.deliveries:
                return False
            self.deliveries[key] = delivery
        return True

    def get_delivery(self, tenant_id: str, order_id: str, name: str) -> Delivery | None:
        return self.deliveries.get((tenant_id, order_id, name))

    def save_delivery(self, delivery: Delivery) -> None:
        self.deliveries[(delivery.tenant_id, delivery.order_id, delivery.name)] = delivery

    def deliveries_for_order(self, tenant_id: str, order_id: str) -> list[Delivery]:
        found = [d for (t, o, _), d in self.deliveries.items() if (t, o) == (tenant_id, order_id)]
        return sorted(found, key=lambda d: d.created_at)

    def list_deliveries(
        self, tenant_id: str, *, failed_only: bool, limit: int, after: dict[str, Any] | None
    ) -> Page[Delivery]:
        found = [
            d
            for (t, _, _), d in sorted(self.deliveries.items())
            if t == tenant_id and (not failed_only or d.status == "failed")
        ]
        start = int(after["offset"]) if after else 0
        page = found[start : start + limit]
        more = start + limit < len(found)
        return Page(items=page, position={"offset": start + limit} if more else None)


class MemoryCounter:
    """The order-number allocator: atomic, sequential per tenant."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.next: dict[str, int] = {}

    def next_number(self, tenant_id: str) -> int:
        with self._lock:
            self.next[tenant_id] = self.next.get(tenant_id, 0) + 1
            return self.next[tenant_id]


class MemoryOptOuts:
    def __init__(self) -> None:
        self.phones: set[tuple[str, str]] = set()

    def put_opt_out(self, tenant_id: str, phone: str, *, at: datetime) -> None:
        self.phones.add((tenant_id, phone))

    def remove_opt_out(self, tenant_id: str, phone: str) -> None:
        self.phones.discard((tenant_id, phone))

    def is_opted_out(self, tenant_id: str, phone: str) -> bool:
        return (tenant_id, phone) in self.phones
