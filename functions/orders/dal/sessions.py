"""WhatsApp conversations in the main table (under the tenant's partition):

| item | key (SK) | TTL |
|---|---|---|
| session | ``WA#CONV#<customer>`` — the session JSON and its ``version`` | idle timeout + 1 day |
| pause | ``WA#PAUSE#<customer>`` | pause end + 1 day |
| rate counter | ``WA#RATE#<customer>#<minute>`` (``ADD``) | 2 minutes |
| LLM turn counter | ``WA#LLM#<day>`` (``ADD``) | 2 days |
| ``@lid`` → phone | ``WA#LID#<lid>`` | 90 days |

A session write is conditional on the version it read (``attribute_not_exists`` for the
first), so two workers can never both commit a turn on one conversation. TTL deletion is
lazy (hours): expiry is decided by the logic on ``Session.expires_at``, the TTL only
reclaims storage.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from atende_shared.dal import keys
from atende_shared.dal.dynamo import ConditionFailed, TableStore, from_item, storage_call, to_item
from functions.orders.logic.chat_ports import StaleSession
from functions.orders.models.whatsapp import Pause, Session

_DAY = 86_400
LID_RETENTION_SECONDS = 90 * _DAY


class DynamoConversationStore(TableStore):
    """:class:`~functions.orders.logic.chat_ports.ConversationStore` on the main table."""

    def _key(self, tenant_id: str, sk: str) -> dict[str, str]:
        return {keys.PK: keys.tenant_pk(tenant_id), keys.SK: sk}

    def _get(self, tenant_id: str, sk: str, what: str) -> dict[str, Any] | None:
        with storage_call(f"read {what}"):
            answer = self._table.get_item(Key=self._key(tenant_id, sk), ConsistentRead=True)
        item = answer.get("Item")
        return from_item(item) if item else None

    # -- sessions ---------------------------------------------------------------------

    def get_session(self, tenant_id: str, customer: str) -> Session | None:
        item = self._get(
            tenant_id, f"{keys.WHATSAPP_CONVERSATION_PREFIX}{customer}", "whatsapp session"
        )
        return Session.model_validate(item["session"]) if item else None

    def save_session(self, session: Session, *, expected_version: int | None) -> None:
        condition: dict[str, Any]
        if expected_version is None:
            condition = {"ConditionExpression": "attribute_not_exists(PK)"}
        else:
            condition = {
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": expected_version},
            }
        item = {
            **self._key(
                session.tenant_id, f"{keys.WHATSAPP_CONVERSATION_PREFIX}{session.customer}"
            ),
            "entity": "whatsapp_session",
            "version": session.version,
            "session": to_item(session.model_dump(mode="json")),
            keys.TTL_ATTRIBUTE: int(session.expires_at.timestamp()) + _DAY,
        }
        try:
            with storage_call("write whatsapp session", conditional=True):
                self._table.put_item(Item=item, **condition)
        except ConditionFailed as exc:
            raise StaleSession(
                f"session {session.tenant_id}/{session.customer} moved past "
                f"version {expected_version}"
            ) from exc

    # -- pauses -----------------------------------------------------------------------

    def get_pause(self, tenant_id: str, customer: str) -> Pause | None:
        item = self._get(tenant_id, f"{keys.WHATSAPP_PAUSE_PREFIX}{customer}", "whatsapp pause")
        return Pause.model_validate(item["pause"]) if item else None

    def put_pause(self, pause: Pause) -> None:
        with storage_call("write whatsapp pause"):
            self._table.put_item(
                Item={
                    **self._key(pause.tenant_id, f"{keys.WHATSAPP_PAUSE_PREFIX}{pause.customer}"),
                    "entity": "whatsapp_pause",
                    "pause": to_item(pause.model_dump(mode="json")),
                    keys.TTL_ATTRIBUTE: int(pause.paused_until.timestamp()) + _DAY,
                }
            )

    def delete_pause(self, tenant_id: str, customer: str) -> None:
        with storage_call("delete whatsapp pause"):
            self._table.delete_item(
                Key=self._key(tenant_id, f"{keys.WHATSAPP_PAUSE_PREFIX}{customer}")
            )

    # -- counters ---------------------------------------------------------------------

    def _count(self, tenant_id: str, sk: str, ttl_seconds: int, what: str) -> int:
        with storage_call(f"count {what}"):
            answer = self._table.update_item(
                Key=self._key(tenant_id, sk),
                UpdateExpression="ADD hits :one SET entity = :entity, #ttl = :ttl",
                ExpressionAttributeNames={"#ttl": keys.TTL_ATTRIBUTE},
                ExpressionAttributeValues={
                    ":one": 1,
                    ":entity": "whatsapp_counter",
                    ":ttl": int(time.time()) + ttl_seconds,
                },
                ReturnValues="UPDATED_NEW",
            )
        return int(answer["Attributes"]["hits"])

    def count_message(self, tenant_id: str, customer: str, minute: str) -> int:
        return self._count(
            tenant_id, f"{keys.WHATSAPP_RATE_PREFIX}{customer}#{minute}", 120, "whatsapp message"
        )

    def count_llm_turn(self, tenant_id: str, day: str) -> int:
        return self._count(tenant_id, f"{keys.WHATSAPP_LLM_PREFIX}{day}", 2 * _DAY, "llm turn")

    # -- @lid → phone -----------------------------------------------------------------

    def remember_lid(self, tenant_id: str, lid: str, phone: str) -> None:
        with storage_call("write whatsapp lid"):
            self._table.put_item(
                Item={
                    **self._key(tenant_id, f"{keys.WHATSAPP_LID_PREFIX}{lid}"),
                    "entity": "whatsapp_lid",
                    "phone": phone,
                    keys.TTL_ATTRIBUTE: int(time.time()) + LID_RETENTION_SECONDS,
                }
            )

    def phone_for_lid(self, tenant_id: str, lid: str) -> str | None:
        item = self._get(tenant_id, f"{keys.WHATSAPP_LID_PREFIX}{lid}", "whatsapp lid")
        return str(item["phone"]) if item else None


@cache
def conversation_store(table_name: str) -> DynamoConversationStore:
    """The process-wide conversation store on ``table_name``."""
    return DynamoConversationStore(table_name)
