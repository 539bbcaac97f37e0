"""The billing store on the main table (items documented in docs/billing.md)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
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
    query_pages,
    storage_call,
    storage_error,
    to_item,
)
from functions.billing.dal.protocol import (
    AlreadyApplied,
    ConcurrentUpdate,
    Page,
    Transaction,
)
from functions.billing.models.ledger import BalanceState, LedgerEntry, OutboxItem
from functions.billing.models.payments import PaymentRecord
from functions.billing.models.session import CallSession, SessionStatus

APPLIED_PREFIX = "APPLIED#"
CALL_ID_PREFIX = "CALLID#"
PAYMENT_PREFIX = "PAYMENT#"
OUTBOX_PREFIX = "OUTBOX#"
#: Sparse GSI1 partition holding open call sessions, sorted by when to sweep them.
OPEN_CALLS_PARTITION = "BILLING#OPENCALLS"
#: Sparse GSI1 partition of outbox items not yet published (the sweeper's safety net).
OUTBOX_PARTITION = "BILLING#OUTBOX"
_META = {keys.PK, keys.SK, keys.GSI1_PK, keys.GSI1_SK, "entity"}


def iso(when: datetime) -> str:
    """Fixed-width UTC timestamp: sorts lexically in time order inside sort keys."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def ledger_sk(entry: LedgerEntry) -> str:
    return f"{keys.LEDGER_PREFIX}{iso(entry.posted_at)}#{entry.seq:010d}"


def call_sk(room_name: str) -> str:
    return f"{keys.CALL_PREFIX}{room_name}"


def payment_sk(provider: str, payment_id: str) -> str:
    return f"{PAYMENT_PREFIX}{provider}#{payment_id}"


def _strip(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in from_item(item).items() if k not in _META}


def _position(last: dict[str, Any] | None) -> dict[str, Any] | None:
    return from_item(last) if last else None


class DynamoBillingStore(TableStore):
    """:class:`BillingStore` on the main table: every item under ``TENANT#<id>``."""

    # -- reads -----------------------------------------------------------------------------

    def _get(self, tenant_id: str, sk: str) -> dict[str, Any] | None:
        with storage_call(f"get {sk}"):
            answer = self._table.get_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: sk}, ConsistentRead=True
            )
        item = answer.get("Item")
        return _strip(item) if item else None

    def get_balance(self, tenant_id: str) -> BalanceState:
        item = self._get(tenant_id, keys.BALANCE_SK)
        if item is None:
            return BalanceState(tenant_id=tenant_id)
        return BalanceState.model_validate(item)

    def get_session(self, tenant_id: str, room_name: str) -> CallSession | None:
        item = self._get(tenant_id, call_sk(room_name))
        return CallSession.model_validate(item) if item else None

    def find_room_by_call_id(self, tenant_id: str, call_id: str) -> str | None:
        item = self._get(tenant_id, f"{CALL_ID_PREFIX}{call_id}")
        return str(item["room_name"]) if item else None

    def get_payment(self, tenant_id: str, provider: str, payment_id: str) -> PaymentRecord | None:
        item = self._get(tenant_id, payment_sk(provider, payment_id))
        return PaymentRecord.model_validate(item) if item else None

    def is_applied(self, tenant_id: str, business_id: str) -> bool:
        return self._get(tenant_id, f"{APPLIED_PREFIX}{business_id}") is not None

    def _query(self, **query: Any) -> dict[str, Any]:
        with storage_call("query"):
            return dict(self._table.query(**query))

    def list_outbox(self, tenant_id: str) -> list[OutboxItem]:
        condition = Key(keys.PK).eq(keys.tenant_pk(tenant_id)) & Key(keys.SK).begins_with(
            OUTBOX_PREFIX
        )
        answer = self._query(KeyConditionExpression=condition, ConsistentRead=True)
        return [OutboxItem.model_validate(_strip(i)) for i in answer.get("Items", [])]

    def delete_outbox(self, tenant_id: str, key: str) -> None:
        with storage_call("delete outbox"):
            self._table.delete_item(
                Key={keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{OUTBOX_PREFIX}{key}"}
            )

    def _ledger_condition(
        self, tenant_id: str, start: datetime | None, end: datetime | None
    ) -> Any:
        pk = Key(keys.PK).eq(keys.tenant_pk(tenant_id))
        low = f"{keys.LEDGER_PREFIX}{iso(start)}" if start else keys.LEDGER_PREFIX
        # '$' sorts right after '#': the upper bound is exclusive of entries posted at `end`.
        high = f"{keys.LEDGER_PREFIX}{iso(end)}" if end else f"{keys.LEDGER_PREFIX[:-1]}$"
        return pk & Key(keys.SK).between(low, high)

    def list_ledger(
        self,
        tenant_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        limit: int = 100,
        after: dict[str, Any] | None = None,
    ) -> Page[LedgerEntry]:
        query: dict[str, Any] = {
            "KeyConditionExpression": self._ledger_condition(tenant_id, start, end),
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        answer = self._query(**query)
        entries = [LedgerEntry.model_validate(_strip(i)) for i in answer.get("Items", [])]
        return Page(items=entries, position=_position(answer.get("LastEvaluatedKey")))

    def iter_ledger(
        self, tenant_id: str, *, start: datetime | None = None, end: datetime | None = None
    ) -> Iterator[LedgerEntry]:
        for item in query_items(
            self._table,
            "query ledger",
            KeyConditionExpression=self._ledger_condition(tenant_id, start, end),
            ConsistentRead=True,
        ):
            yield LedgerEntry.model_validate(_strip(item))

    def last_entry_before(self, tenant_id: str, when: datetime) -> LedgerEntry | None:
        condition = Key(keys.PK).eq(keys.tenant_pk(tenant_id)) & Key(keys.SK).between(
            keys.LEDGER_PREFIX, f"{keys.LEDGER_PREFIX}{iso(when)}"
        )
        answer = self._query(
            KeyConditionExpression=condition, ScanIndexForward=False, Limit=1, ConsistentRead=True
        )
        items = answer.get("Items", [])
        return LedgerEntry.model_validate(_strip(items[0])) if items else None

    def list_calls(
        self, tenant_id: str, *, limit: int = 100, after: dict[str, Any] | None = None
    ) -> Page[CallSession]:
        query: dict[str, Any] = {
            "KeyConditionExpression": Key(keys.PK).eq(keys.tenant_pk(tenant_id))
            & Key(keys.SK).begins_with(keys.CALL_PREFIX),
            "Limit": limit,
        }
        if after:
            query["ExclusiveStartKey"] = after
        answer = self._query(**query)
        calls = [CallSession.model_validate(_strip(i)) for i in answer.get("Items", [])]
        return Page(items=calls, position=_position(answer.get("LastEvaluatedKey")))

    def due_sessions(self, now: datetime, *, limit: int = 500) -> list[tuple[str, str]]:
        condition = Key(keys.GSI1_PK).eq(OPEN_CALLS_PARTITION) & Key(keys.GSI1_SK).lte(
            f"{iso(now)}$"
        )
        found: list[tuple[str, str]] = []
        for page in query_pages(
            self._table, "query due sessions", IndexName=keys.GSI1, KeyConditionExpression=condition
        ):
            found += [(str(i["tenant_id"]), str(i["room_name"])) for i in page.get("Items", [])]
            if len(found) >= limit:
                break
        return found[:limit]

    def count_open_sessions(self) -> int:
        """How many call sessions are open right now (the sparse open-calls partition)."""
        pages = query_pages(
            self._table,
            "count open sessions",
            IndexName=keys.GSI1,
            KeyConditionExpression=Key(keys.GSI1_PK).eq(OPEN_CALLS_PARTITION),
            Select="COUNT",
        )
        return sum(int(page.get("Count", 0)) for page in pages)

    def tenants_with_pending_outbox(self, *, limit: int = 500) -> list[str]:
        tenants: list[str] = []
        for page in query_pages(
            self._table,
            "query pending outbox",
            IndexName=keys.GSI1,
            KeyConditionExpression=Key(keys.GSI1_PK).eq(OUTBOX_PARTITION),
        ):
            for item in page.get("Items", []):
                tenant = str(item["tenant_id"])
                if tenant not in tenants:
                    tenants.append(tenant)
            if len(tenants) >= limit:
                break
        return tenants[:limit]

    # -- the one write path -------------------------------------------------------------------

    def commit(self, tx: Transaction) -> None:
        pk = keys.tenant_pk(tx.tenant_id)
        items: list[dict[str, Any]] = []
        idempotency_slots: set[int] = set()

        def put(sk: str, entity: str, body: dict[str, Any], condition: dict[str, Any]) -> None:
            item = {keys.PK: pk, keys.SK: sk, "entity": entity, **to_item(body)}
            items.append({"Put": {"TableName": self._table_name, "Item": item, **condition}})

        if tx.balance is not None:
            put(
                keys.BALANCE_SK,
                "balance",
                tx.balance.model_dump(mode="json"),
                _version_condition(tx.balance.version),
            )
        for entry in tx.entries:
            put(ledger_sk(entry), "ledger_entry", entry.model_dump(mode="json"), _must_not_exist())
        for business_id in tx.applied:
            idempotency_slots.add(len(items))
            put(
                f"{APPLIED_PREFIX}{business_id}",
                "applied",
                {"business_id": business_id},
                _must_not_exist(),
            )
        if tx.session is not None:
            body = tx.session.model_dump(mode="json")
            if tx.session.status is SessionStatus.OPEN and tx.session.sweep_at is not None:
                body[keys.GSI1_PK] = OPEN_CALLS_PARTITION
                body[keys.GSI1_SK] = (
                    f"{iso(tx.session.sweep_at)}#{tx.tenant_id}#{tx.session.room_name}"
                )
            put(
                call_sk(tx.session.room_name),
                "call_session",
                body,
                _version_condition(tx.session.version),
            )
        if tx.payment is not None:
            put(
                payment_sk(tx.payment.provider, tx.payment.payment_id),
                "payment",
                tx.payment.model_dump(mode="json"),
                _version_condition(tx.payment.version),
            )
        for event in tx.outbox:
            body = event.model_dump(mode="json")
            body[keys.GSI1_PK] = OUTBOX_PARTITION
            body[keys.GSI1_SK] = f"{tx.tenant_id}#{event.key}"
            body["tenant_id"] = tx.tenant_id
            put(f"{OUTBOX_PREFIX}{event.key}", "outbox", body, {})
        aliases: list[dict[str, Any]] = []
        for call_id, room_name in tx.aliases:
            alias = {keys.PK: pk, keys.SK: f"{CALL_ID_PREFIX}{call_id}", "entity": "call_alias"}
            aliases.append(
                {
                    "Put": {
                        "TableName": self._table_name,
                        "Item": alias | to_item({"room_name": room_name}),
                    }
                }
            )
        if len(items) <= 1:
            # A call-id alias is a fact of the signal (this SIP call is this room), written
            # unconditionally and idempotently: it needs no transaction with the one item
            # the unit changes, so it goes first as a plain put (a retry rewrites it alike).
            for alias_put in aliases:
                self._put_one(alias_put["Put"], tx.tenant_id)
            if items:
                self._put_one(items[0]["Put"], tx.tenant_id)
            return
        items.extend(aliases)
        try:
            # TransactWriteItems loses a condition only as TransactionCanceledException.
            with storage_call("commit", conditional=True):
                resource("dynamodb").meta.client.transact_write_items(TransactItems=items)
        except ConditionFailed as exc:
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            failed = {i for i, r in enumerate(reasons) if r == "ConditionalCheckFailed"}
            if failed - idempotency_slots or "TransactionConflict" in reasons:
                raise ConcurrentUpdate(f"concurrent update on {tx.tenant_id}") from exc
            if failed:
                raise AlreadyApplied(f"already applied on {tx.tenant_id}") from exc
            raise storage_error("commit", exc.error) from exc

    def _put_one(self, put: dict[str, Any], tenant_id: str) -> None:
        """A unit of work touching one item (a session fact) needs no transaction: a
        conditional put is as atomic and costs half the write capacity."""
        request = {k: v for k, v in put.items() if k != "TableName"}
        try:
            # PutItem loses a condition only as ConditionalCheckFailedException.
            with storage_call("put", conditional=True):
                self._table.put_item(**request)
        except ConditionFailed as exc:
            raise ConcurrentUpdate(f"concurrent update on {tenant_id}") from exc


def _must_not_exist() -> dict[str, Any]:
    return {"ConditionExpression": "attribute_not_exists(PK)"}


def _version_condition(new_version: int) -> dict[str, Any]:
    """The stored version must be the one this write was computed from."""
    if new_version <= 1:
        return _must_not_exist()
    return {
        "ConditionExpression": "#v = :expected",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":expected": new_version - 1},
    }


@cache
def billing_store(table_name: str) -> DynamoBillingStore:
    """The process-wide store for ``table_name`` (built once, on first use)."""
    return DynamoBillingStore(table_name)
