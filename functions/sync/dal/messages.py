"""WhatsApp messages as ``MSG#<provider>#<message id>`` items (conditional put = once)."""

from __future__ import annotations

from datetime import timedelta
from functools import cache
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.dal import keys
from atende_shared.dal.dynamo import is_condition_failure, storage_error, table, to_item
from atende_shared.models.common import utc_now

MESSAGE_PREFIX = "MSG#"
RETENTION = timedelta(days=90)


class DynamoMessageLog:
    def __init__(self, table_name: str) -> None:
        self._table_name = table_name

    def record(self, tenant_id: str, message_id: str, data: dict[str, Any]) -> bool:
        try:
            table(self._table_name).put_item(
                Item={
                    keys.PK: keys.tenant_pk(tenant_id),
                    keys.SK: f"{MESSAGE_PREFIX}{message_id}",
                    "entity": "message",
                    **to_item(data),
                    keys.TTL_ATTRIBUTE: int((utc_now() + RETENTION).timestamp()),
                },
                ConditionExpression="attribute_not_exists(PK)",
            )
        except ClientError as exc:
            if is_condition_failure(exc):
                return False
            raise storage_error("record message", exc) from exc
        except BotoCoreError as exc:
            raise storage_error("record message", exc) from exc
        return True


@cache
def message_log(table_name: str) -> DynamoMessageLog:
    return DynamoMessageLog(table_name)
