"""Z-API: webhooks carry no signature; the tenant's client token must come with them, in
the ``Client-Token`` header or, when the gateway cannot set headers, as ``?token=`` in the
configured webhook URL. Only inbound messages (``ReceivedCallback``, also spelled
``ReceivedCallBack``) are ingested, ``fromMe`` ones included: the conversation handler tells
our own echoes (recorded when sent) from a person answering on the restaurant's phone, which
pauses the bot. The message is read with the shared
:mod:`atende_shared.models.whatsapp_inbound`; the FIFO group is the conversation."""

from __future__ import annotations

from atende_shared.models.whatsapp_inbound import from_zapi
from atende_shared.ports.secrets import matches_any
from atende_shared.resources import Queue
from functions.webhooks.logic.common import (
    AdapterContext,
    accepted,
    parse_json,
    require_tenant,
    secret_candidates,
    validate,
)
from functions.webhooks.logic.delivery import Delivery, Ignored, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.whatsapp import ZapiCallback

TOKEN_HEADER = "client-token"  # noqa: S105 (a header name)


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    tenant = require_tenant(delivery)
    token = delivery.header(TOKEN_HEADER) or delivery.query.get("token")
    if not token:
        raise AuthFailure("missing_header", f"no {TOKEN_HEADER} header nor token parameter")
    if not matches_any(token, secret_candidates(context, tenant, "zapi", "client_token")):
        raise AuthFailure("bad_token", "client token does not match")

    data = parse_json(delivery.body)
    callback = validate(ZapiCallback, data, what="Z-API callback")
    message = from_zapi(data)
    if message is None:
        return Ignored(f"Z-API {callback.type} is not an inbound message")
    return accepted(
        delivery,
        context,
        Queue.MESSAGING,
        tenant_id=tenant,
        group_key=message.chat_id,
        event_id=message.message_id,
        type=callback.type,
        occurred_at=callback.momment or context.now,
        payload=data,
    )
