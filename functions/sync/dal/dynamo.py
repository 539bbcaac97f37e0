"""DynamoDB implementations of the sync ports, on the main table.

Key layout (all under ``PK = TENANT#<id>``, see docs/sync.md):

- ``MENU#ITEM#<item_id>``   the catalog item the agent reads (+ sync bookkeeping attributes)
- ``SYNC#RUN#<run_id>``     a run: status, counters (flat ``count_*`` attributes), errors
- ``SYNC#CKPT#<run_id>#<seq>`` the (item id, sku) pairs of one durable page of a snapshot
- ``SYNC#Q#<run_id>#<key>``  a quarantined record and its reason
- ``SYNC#CURSOR#<source>``  the incremental cursor of a source
- ``SYNC#ORDER#<order_id>`` an order's write-back status and external id
- ``SYNC#INGEST#<stream>#<snapshot>#<batch>`` a pushed batch: accepted, then applied
- ``LEASE#<name>``          short exclusive leases (token refresh, order write-back)
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from boto3.dynamodb.conditions import Key

from atende_shared.aws import resource
from atende_shared.dal import keys
from atende_shared.dal.dynamo import (
    ConditionFailed,
    TableStore,
    from_item,
    query_items,
    storage_call,
    to_item,
)
from atende_shared.dal.leases import leases
from atende_shared.models.common import utc_now
from functions.sync.models.catalog import CatalogItem, ItemState, Quarantined, StoredItem
from functions.sync.models.orders import OrderSync
from functions.sync.models.runs import SyncCounts, SyncRun

RUN_PREFIX = keys.SYNC_RUN_PREFIX
CKPT_PREFIX = "SYNC#CKPT#"
QUARANTINE_PREFIX = "SYNC#Q#"
ORDER_SYNC_PREFIX = "SYNC#ORDER#"
INGEST_PREFIX = "SYNC#INGEST#"
BOOKKEEPING_TTL = timedelta(days=30)
RUN_RETENTION = timedelta(days=90)
_COUNT_FIELDS = tuple(SyncCounts.model_fields)
_ITEM_META = {
    keys.PK,
    keys.SK,
    "entity",
    "content_hash",
    "synced_at",
    "deleted_at",
    keys.TTL_ATTRIBUTE,
    "stock_at",
}


def _epoch(moment: datetime) -> int:
    return int(moment.timestamp())


def _parse_time(raw: Any) -> datetime | None:
    if not raw:
        return None
    return datetime.fromisoformat(str(raw))


class _Base(TableStore):
    def _query(self, pk: str, prefix: str, **extra: Any) -> Iterator[dict[str, Any]]:
        condition = Key(keys.PK).eq(pk) & Key(keys.SK).begins_with(prefix)
        return query_items(self._table, "query", KeyConditionExpression=condition, **extra)


class DynamoCatalogRepository(_Base):
    """Catalog items as ``MENU#ITEM#`` items: readable by ``TenantStore.get_menu``."""

    def states(self, tenant_id: str) -> dict[str, ItemState]:
        pk = keys.tenant_pk(tenant_id)
        out: dict[str, ItemState] = {}
        for raw in self._query(
            pk,
            keys.MENU_ITEM_PREFIX,
            ProjectionExpression="item_id, content_hash, #src, deleted_at, stock_at",
            ExpressionAttributeNames={"#src": "source"},
        ):
            state = _state(raw)
            out[state.item_id] = state
        return out

    def get_items(self, tenant_id: str, item_ids: Iterable[str]) -> dict[str, StoredItem]:
        pk = keys.tenant_pk(tenant_id)
        wanted = sorted(set(item_ids))
        out: dict[str, StoredItem] = {}
        ddb = resource("dynamodb")
        for start in range(0, len(wanted), 100):
            request: dict[str, Any] = {
                self._table_name: {
                    "Keys": [
                        {keys.PK: pk, keys.SK: keys.menu_item_sk(i)}
                        for i in wanted[start : start + 100]
                    ],
                    "ConsistentRead": True,
                }
            }
            while request:
                with storage_call("get catalog items"):
                    answer = _batch_get(ddb, request)
                for raw in answer.get("Responses", {}).get(self._table_name, []):
                    data = from_item(raw)
                    if "source" not in data:
                        continue  # a hand-made menu item: not ours to diff
                    item = CatalogItem.model_validate(
                        {k: v for k, v in data.items() if k not in _ITEM_META}
                    )
                    out[item.item_id] = StoredItem(item=item, state=_state(data))
                request = answer.get("UnprocessedKeys") or {}
        return out

    def put_items(
        self,
        tenant_id: str,
        items: Sequence[CatalogItem],
        *,
        now: datetime,
        stock_at: Mapping[str, datetime] | None = None,
    ) -> None:
        pk = keys.tenant_pk(tenant_id)
        stamps = stock_at or {}
        # batch_writer flushes on exit and retries unprocessed items: when the block
        # returns, every item is durable.
        with storage_call("put catalog items"), self._table.batch_writer() as batch:
            for item in items:
                record: dict[str, Any] = {
                    keys.PK: pk,
                    keys.SK: keys.menu_item_sk(item.item_id),
                    "entity": "menu_item",
                    **to_item(item.model_dump(mode="json", exclude_none=True)),
                    "content_hash": item.content_hash(),
                    "synced_at": now.isoformat(),
                }
                if item.item_id in stamps:
                    record["stock_at"] = stamps[item.item_id].isoformat()
                batch.put_item(Item=record)

    def soft_delete(
        self, tenant_id: str, item_ids: Sequence[str], *, now: datetime, purge_at: datetime
    ) -> None:
        pk = keys.tenant_pk(tenant_id)
        for item_id in item_ids:
            try:
                with storage_call("soft delete", conditional=True):
                    self._table.update_item(
                        Key={keys.PK: pk, keys.SK: keys.menu_item_sk(item_id)},
                        UpdateExpression="SET available = :f, deleted_at = :now, #ttl = :purge",
                        ConditionExpression="attribute_exists(PK)",
                        ExpressionAttributeNames={"#ttl": keys.TTL_ATTRIBUTE},
                        ExpressionAttributeValues={
                            ":f": False,
                            ":now": now.isoformat(),
                            ":purge": _epoch(purge_at),
                        },
                    )
            except ConditionFailed:
                continue  # already purged: nothing to hide


def _batch_get(ddb: Any, request: dict[str, Any]) -> dict[str, Any]:
    return dict(ddb.batch_get_item(RequestItems=request))


def _state(raw: Mapping[str, Any]) -> ItemState:
    return ItemState(
        item_id=str(raw["item_id"]),
        content_hash=raw.get("content_hash"),
        source=raw.get("source"),
        deleted=bool(raw.get("deleted_at")),
        stock_at=_parse_time(raw.get("stock_at")),
    )


class DynamoRunRepository(_Base):
    def _run_item(self, run: SyncRun) -> dict[str, Any]:
        data = run.model_dump(mode="json", exclude={"counts"}, exclude_none=True)
        return {
            keys.PK: keys.tenant_pk(run.tenant_id),
            keys.SK: f"{RUN_PREFIX}{run.run_id}",
            "entity": "sync_run",
            **to_item(data),
            **{f"count_{k}": getattr(run.counts, k) for k in _COUNT_FIELDS},
            # Scheduled runs pile up (one per tenant every 15 minutes): keep 90 days.
            keys.TTL_ATTRIBUTE: _epoch(run.created_at + RUN_RETENTION),
        }

    @staticmethod
    def _from_item(raw: Mapping[str, Any]) -> SyncRun:
        data = from_item(dict(raw))
        counts = {k: int(data.pop(f"count_{k}", 0)) for k in _COUNT_FIELDS}
        for meta in (keys.PK, keys.SK, "entity", keys.TTL_ATTRIBUTE):
            data.pop(meta, None)
        return SyncRun.model_validate({**data, "counts": counts})

    def create_run(self, run: SyncRun) -> bool:
        try:
            with storage_call("create run", conditional=True):
                self._table.put_item(
                    Item=self._run_item(run), ConditionExpression="attribute_not_exists(PK)"
                )
        except ConditionFailed:
            return False
        return True

    def get_run(self, tenant_id: str, run_id: str) -> SyncRun | None:
        with storage_call("get run"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{RUN_PREFIX}{run_id}"},
                ConsistentRead=True,
            )
        item = answer.get("Item")
        return self._from_item(item) if item else None

    def save_run(self, run: SyncRun) -> None:
        with storage_call("save run"):
            self._table.put_item(Item=self._run_item(run))

    def list_runs(
        self, tenant_id: str, *, limit: int = 20, after: dict[str, Any] | None = None
    ) -> tuple[list[SyncRun], dict[str, Any] | None]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(keys.PK).eq(keys.tenant_pk(tenant_id))
            & Key(keys.SK).begins_with(RUN_PREFIX),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        with storage_call("list runs"):
            answer = self._table.query(**query)
        last = answer.get("LastEvaluatedKey")
        return [self._from_item(i) for i in answer.get("Items", [])], (
            {str(k): v for k, v in last.items()} if last else None
        )

    def bump_counts(self, tenant_id: str, run_id: str, source: str, counts: SyncCounts) -> None:
        now = utc_now().isoformat()
        values: dict[str, Any] = {f":{k}": getattr(counts, k) for k in _COUNT_FIELDS}
        values.update(
            {
                ":tenant": tenant_id,
                ":run": run_id,
                ":source": source,
                ":mode": "webhook",
                ":status": "running",
                ":now": now,
            }
        )
        with storage_call("bump run counts"):
            self._table.update_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{RUN_PREFIX}{run_id}"},
                UpdateExpression=(
                    "ADD "
                    + ", ".join(f"count_{k} :{k}" for k in _COUNT_FIELDS)
                    + " SET entity = :entity_v, tenant_id = if_not_exists(tenant_id, :tenant),"
                    " run_id = if_not_exists(run_id, :run), #src = if_not_exists(#src, :source),"
                    " #mode = if_not_exists(#mode, :mode),"
                    " #status = if_not_exists(#status, :status),"
                    " created_at = if_not_exists(created_at, :now),"
                    " started_at = if_not_exists(started_at, :now), finished_at = :now,"
                    " #ttl = if_not_exists(#ttl, :ttl)"
                ),
                ExpressionAttributeNames={
                    "#src": "source",
                    "#mode": "mode",
                    "#status": "status",
                    "#ttl": keys.TTL_ATTRIBUTE,
                },
                ExpressionAttributeValues={
                    **values,
                    ":entity_v": "sync_run",
                    ":ttl": _epoch(utc_now() + RUN_RETENTION),
                },
            )

    def add_checkpoint(
        self, tenant_id: str, run_id: str, seq: str, seen: Sequence[tuple[str, str | None]]
    ) -> None:
        with storage_call("add checkpoint"):
            self._table.put_item(
                Item={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{CKPT_PREFIX}{run_id}#{seq}",
                    "entity": "sync_checkpoint",
                    "seen": [[i, s or ""] for i, s in seen],
                    keys.TTL_ATTRIBUTE: _epoch(utc_now() + BOOKKEEPING_TTL),
                }
            )

    def checkpoints(self, tenant_id: str, run_id: str) -> dict[str, list[tuple[str, str | None]]]:
        prefix = f"{CKPT_PREFIX}{run_id}#"
        out: dict[str, list[tuple[str, str | None]]] = {}
        for raw in self._query(keys.tenant_pk(tenant_id), prefix):
            seq = str(raw[keys.SK])[len(prefix) :]
            out[seq] = [(str(i), (str(s) or None)) for i, s in raw.get("seen", [])]
        return out

    def put_quarantine(self, tenant_id: str, run_id: str, entries: Sequence[Quarantined]) -> None:
        pk = keys.tenant_pk(tenant_id)
        expires = _epoch(utc_now() + BOOKKEEPING_TTL)
        with (
            storage_call("put quarantine"),
            self._table.batch_writer(overwrite_by_pkeys=[keys.PK, keys.SK]) as batch,
        ):
            for entry in entries:
                batch.put_item(
                    Item={
                        keys.PK: pk,
                        keys.SK: f"{QUARANTINE_PREFIX}{run_id}#{entry.record_key}",
                        "entity": "sync_quarantine",
                        "run_id": run_id,
                        **to_item(entry.model_dump(mode="json")),
                        keys.TTL_ATTRIBUTE: expires,
                    }
                )

    def quarantine(self, tenant_id: str, run_id: str, *, limit: int = 100) -> list[Quarantined]:
        out: list[Quarantined] = []
        for raw in self._query(keys.tenant_pk(tenant_id), f"{QUARANTINE_PREFIX}{run_id}#"):
            data = from_item(raw)
            out.append(
                Quarantined.model_validate(
                    {k: data.get(k) for k in ("record_key", "reason", "raw")}
                )
            )
            if len(out) >= limit:
                break
        return out

    def get_cursor(self, tenant_id: str, source: str) -> datetime | None:
        with storage_call("get cursor"):
            answer = self._table.get_item(
                Key={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{keys.SYNC_CURSOR_PREFIX}{source}",
                },
                ConsistentRead=True,
            )
        item = answer.get("Item")
        return _parse_time(item.get("value")) if item else None

    def put_cursor(self, tenant_id: str, source: str, value: datetime) -> None:
        with storage_call("put cursor"):
            self._table.put_item(
                Item={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{keys.SYNC_CURSOR_PREFIX}{source}",
                    "entity": "sync_cursor",
                    "value": value.isoformat(),
                }
            )


class DynamoOrderSyncRepository(_Base):
    def get(self, tenant_id: str, order_id: str) -> OrderSync | None:
        with storage_call("get order sync"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{ORDER_SYNC_PREFIX}{order_id}"},
                ConsistentRead=True,
            )
        item = answer.get("Item")
        if not item:
            return None
        data = {k: v for k, v in from_item(item).items() if k not in {keys.PK, keys.SK, "entity"}}
        return OrderSync.model_validate(data)

    def put(self, record: OrderSync) -> None:
        with storage_call("put order sync"):
            self._table.put_item(
                Item={
                    keys.PK: keys.tenant_pk(record.tenant_id),
                    keys.SK: f"{ORDER_SYNC_PREFIX}{record.order_id}",
                    "entity": "order_sync",
                    **to_item(record.model_dump(mode="json", exclude_none=True)),
                }
            )


class DynamoLock:
    """The sync ports' lock on the shared leases, in the tenant's partition."""

    def __init__(self, table_name: str, tenant_id: str) -> None:
        self._leases = leases(table_name)
        self._pk = keys.tenant_pk(tenant_id)

    def _key(self, name: str) -> dict[str, str]:
        return {keys.PK: self._pk, keys.SK: f"{keys.LEASE_PREFIX}{name}"}

    def acquire(self, name: str, *, ttl_seconds: float) -> str | None:
        token = secrets.token_hex(8)
        taken = self._leases.try_acquire(self._key(name), token, ttl_seconds=ttl_seconds)
        return token if taken else None

    def release(self, name: str, token: str) -> None:
        self._leases.release(self._key(name), token)


class DynamoIngestLedger(_Base):
    def _key(self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str) -> dict[str, str]:
        return {
            keys.PK: keys.tenant_pk(tenant_id),
            keys.SK: f"{INGEST_PREFIX}{stream}#{snapshot_id}#{batch_id}",
        }

    def accepted(self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str) -> bool:
        with storage_call("get ingest batch"):
            answer = self._table.get_item(
                Key=self._key(tenant_id, stream, snapshot_id, batch_id), ConsistentRead=True
            )
        return "Item" in answer

    def mark_accepted(self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str) -> None:
        with storage_call("mark batch accepted"):
            self._table.update_item(
                Key=self._key(tenant_id, stream, snapshot_id, batch_id),
                UpdateExpression=(
                    "SET entity = :e, #status = if_not_exists(#status, :s), accepted_at = :now,"
                    " #ttl = :ttl"
                ),
                ExpressionAttributeNames={"#status": "status", "#ttl": keys.TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":e": "ingest_batch",
                    ":s": "accepted",
                    ":now": utc_now().isoformat(),
                    ":ttl": _epoch(utc_now() + BOOKKEEPING_TTL),
                },
            )

    def mark_applied(
        self, tenant_id: str, stream: str, snapshot_id: str, batch_id: str, records: int
    ) -> None:
        with storage_call("mark batch applied"):
            self._table.update_item(
                Key=self._key(tenant_id, stream, snapshot_id, batch_id),
                UpdateExpression=(
                    "SET entity = :e, #status = :s, applied_at = :now, records = :n, #ttl = :ttl"
                ),
                ExpressionAttributeNames={"#status": "status", "#ttl": keys.TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":e": "ingest_batch",
                    ":s": "applied",
                    ":now": utc_now().isoformat(),
                    ":n": records,
                    ":ttl": _epoch(utc_now() + BOOKKEEPING_TTL),
                },
            )

    def applied_count(self, tenant_id: str, stream: str, snapshot_id: str) -> int:
        return sum(
            1
            for raw in self._query(
                keys.tenant_pk(tenant_id), f"{INGEST_PREFIX}{stream}#{snapshot_id}#"
            )
            if raw.get("status") == "applied"
        )


@cache
def catalog_repository(table_name: str) -> DynamoCatalogRepository:
    return DynamoCatalogRepository(table_name)


@cache
def run_repository(table_name: str) -> DynamoRunRepository:
    return DynamoRunRepository(table_name)


@cache
def order_sync_repository(table_name: str) -> DynamoOrderSyncRepository:
    return DynamoOrderSyncRepository(table_name)


@cache
def ingest_ledger(table_name: str) -> DynamoIngestLedger:
    return DynamoIngestLedger(table_name)
