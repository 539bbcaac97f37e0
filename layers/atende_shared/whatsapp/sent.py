"""What the platform sent on WhatsApp: so a retry never sends twice, and so the ``fromMe``
echo of a message we sent is told apart from a person typing on the restaurant's phone.

Two items per message in the main table, under the tenant's partition, with a TTL:

- ``WA#SENT#<idempotency key>`` → the gateway and message id (a retry of the same logical
  message returns this instead of sending again);
- ``WA#OUT#<gateway message id>`` → ours (the echo check, one ``GetItem``).

The message is recorded after the gateway accepted it: a crash between the two resends once
(at-least-once), never loses. Both gateways echo within seconds; the TTL only bounds storage.
"""

from __future__ import annotations

import time
from datetime import timedelta
from functools import cache
from typing import Protocol

from atende_shared.dal import keys
from atende_shared.dal.dynamo import TableStore, storage_call
from atende_shared.whatsapp import OutboundText, SendResult, WhatsAppSender

RETENTION = timedelta(days=3)


class SentLog(Protocol):
    def sent(self, tenant_id: str, idempotency_key: str) -> SendResult | None:
        """The result of the logical message already sent under ``idempotency_key``."""
        ...

    def record(self, message: OutboundText, result: SendResult) -> None: ...

    def is_ours(self, tenant_id: str, message_id: str) -> bool:
        """Whether the gateway message ``message_id`` was sent by the platform."""
        ...


class DynamoSentLog(TableStore):
    """:class:`SentLog` on the main table."""

    def sent(self, tenant_id: str, idempotency_key: str) -> SendResult | None:
        with storage_call("read sent whatsapp message"):
            answer = self._table.get_item(
                Key={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{keys.WHATSAPP_SENT_PREFIX}{idempotency_key}",
                },
                ConsistentRead=True,
            )
        item = answer.get("Item")
        if not item:
            return None
        return SendResult(gateway=item["gateway"], message_id=item.get("message_id"))

    def record(self, message: OutboundText, result: SendResult) -> None:
        expires = int(time.time() + RETENTION.total_seconds())
        pk = keys.tenant_pk(message.tenant_id)
        common = {
            "entity": "whatsapp_sent",
            "gateway": result.gateway,
            "to": message.to,
            "idempotency_key": message.idempotency_key,
            "correlation_id": message.correlation_id,
            keys.TTL_ATTRIBUTE: expires,
        }
        if result.message_id:
            common["message_id"] = result.message_id
            with storage_call("record whatsapp echo id"):
                self._table.put_item(
                    Item={
                        keys.PK: pk,
                        keys.SK: f"{keys.WHATSAPP_OUT_PREFIX}{result.message_id}",
                        **common,
                    }
                )
        with storage_call("record sent whatsapp message"):
            self._table.put_item(
                Item={
                    keys.PK: pk,
                    keys.SK: f"{keys.WHATSAPP_SENT_PREFIX}{message.idempotency_key}",
                    **common,
                }
            )

    def is_ours(self, tenant_id: str, message_id: str) -> bool:
        with storage_call("read whatsapp echo id"):
            answer = self._table.get_item(
                Key={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{keys.WHATSAPP_OUT_PREFIX}{message_id}",
                },
                ProjectionExpression="PK",
            )
        return "Item" in answer


class MemorySentLog:
    """:class:`SentLog` in memory (tests of logic, benchmarks' baselines)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, str], SendResult] = {}
        self.ours: set[tuple[str, str]] = set()

    def sent(self, tenant_id: str, idempotency_key: str) -> SendResult | None:
        return self.by_key.get((tenant_id, idempotency_key))

    def record(self, message: OutboundText, result: SendResult) -> None:
        self.by_key[(message.tenant_id, message.idempotency_key)] = result
        if result.message_id:
            self.ours.add((message.tenant_id, result.message_id))

    def is_ours(self, tenant_id: str, message_id: str) -> bool:
        return (tenant_id, message_id) in self.ours


@cache
def sent_log(table_name: str) -> DynamoSentLog:
    """The process-wide sent-message log on ``table_name``."""
    return DynamoSentLog(table_name)


class RecordingSender:
    """A :class:`WhatsAppSender` that sends each logical message once (by its idempotency
    key) and records its gateway id for the echo check."""

    def __init__(self, inner: WhatsAppSender, log: SentLog) -> None:
        self._inner = inner
        self._log = log

    def send_text(self, message: OutboundText) -> SendResult:
        previous = self._log.sent(message.tenant_id, message.idempotency_key)
        if previous is not None:
            return previous
        result = self._inner.send_text(message)
        self._log.record(message, result)
        return result
