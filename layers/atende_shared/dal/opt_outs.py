"""The DynamoDB store of WhatsApp opt-outs: one item per tenant and phone,
``TENANT#<id>`` / ``OPTOUT#<phone>``. What logic uses (keywords, protocol, actions) lives in
:mod:`atende_shared.ports.opt_outs` and is re-exported here for callers that wire the store.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from atende_shared.dal import keys
from atende_shared.dal.dynamo import TableStore, storage_call
from atende_shared.ports.opt_outs import (
    OPT_IN_KEYWORDS,
    OPT_OUT_KEYWORDS,
    OPTOUT_PREFIX,
    OptOutStore,
    is_opt_in_request,
    is_opt_out_request,
    opt_in,
    opt_out,
)

__all__ = [
    "OPTOUT_PREFIX",
    "OPT_IN_KEYWORDS",
    "OPT_OUT_KEYWORDS",
    "DynamoOptOuts",
    "OptOutStore",
    "is_opt_in_request",
    "is_opt_out_request",
    "opt_in",
    "opt_out",
    "opt_out_store",
]


class DynamoOptOuts(TableStore):
    def _key(self, tenant_id: str, phone: str) -> dict[str, str]:
        return {keys.PK: keys.tenant_pk(tenant_id), keys.SK: f"{OPTOUT_PREFIX}{phone}"}

    def put_opt_out(self, tenant_id: str, phone: str, *, at: datetime) -> None:
        with storage_call("record WhatsApp opt-out"):
            self._table.put_item(
                Item={
                    **self._key(tenant_id, phone),
                    "entity": "whatsapp_opt_out",
                    "phone": phone,
                    "at": at.isoformat(),
                }
            )

    def remove_opt_out(self, tenant_id: str, phone: str) -> None:
        with storage_call("remove WhatsApp opt-out"):
            self._table.delete_item(Key=self._key(tenant_id, phone))

    def is_opted_out(self, tenant_id: str, phone: str) -> bool:
        with storage_call("read WhatsApp opt-out"):
            answer = self._table.get_item(Key=self._key(tenant_id, phone), ConsistentRead=True)
        return "Item" in answer


@cache
def opt_out_store(table_name: str) -> DynamoOptOuts:
    return DynamoOptOuts(table_name)
