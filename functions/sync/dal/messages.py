"""WhatsApp messages as ``MSG#<provider>#<message id>`` items (conditional put = once)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from atende_shared.dal import keys
from atende_shared.dal.dynamo import ConditionFailed, TableStore, storage_call, to_item
from atende_shared.models.common import utc_now

MESSAGE_PREFIX = "MSG#"
RETENTION = timedelta(days=90)


class DynamoMessageLog(TableStore):
    def record(self, tenant_id: str, message_id: str, data: dict[str, Any]) -> bool:
        try:
            with storage_call("record message", conditional=True):
                self._table.put_item(
                    Item={
                        keys.PK: keys.tenant_pk(tenant_id),
                        keys.SK: f"{MESSAGE_PREFIX}{message_id}",
                        "entity": "message",
                        **to_item(data),
                        keys.TTL_ATTRIBUTE: int((utc_now() + RETENTION).timestamp()),
                    },
                    ConditionExpression="attribute_not_exists(PK)",
                )
        except ConditionFailed:
            return False
        return True


@cache
def message_log(table_name: str) -> DynamoMessageLog:
    return DynamoMessageLog(table_name)
