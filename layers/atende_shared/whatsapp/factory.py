"""The sender of a tenant: its gateway (``tenant.integrations.whatsapp_gateway``) and the
credentials in its integration secret, behind retries, a breaker and the sent-message log.

Secret fields (``atende/<stage>/tenants/<tenant_id>/<gateway>``, see ``tenant_secrets``):

- ``zapi``: ``instance_id``, ``instance_token`` (both in the send URL), ``client_token``
  (the account's ``Client-Token`` header; also what inbound webhooks present), optional
  ``base_url`` (default ``https://api.z-api.io``);
- ``evolution``: ``base_url`` (self-hosted), ``instance``, ``apikey`` (the ``apikey``
  header; also what inbound webhooks present), optional ``api_version`` ``v1``/``v2``
  (default ``v2``: the body shape differs, see :mod:`atende_shared.whatsapp.clients`).
"""

from __future__ import annotations

from atende_shared.models.tenant import Tenant
from atende_shared.tenant_secrets import SecretReader
from atende_shared.whatsapp import WhatsAppSender, WhatsAppSendError
from atende_shared.whatsapp.clients import (
    ZAPI_DEFAULT_BASE_URL,
    EvolutionClient,
    ZapiClient,
)
from atende_shared.whatsapp.resilience import DEFAULT_POLICY, ResilientSender, RetryPolicy
from atende_shared.whatsapp.sent import RecordingSender, SentLog

ZAPI_FIELDS = ("instance_id", "instance_token", "client_token")
EVOLUTION_FIELDS = ("base_url", "instance", "apikey")


def _fields(values: dict[str, str], required: tuple[str, ...], what: str) -> None:
    missing = [name for name in required if not values.get(name)]
    if missing:
        raise WhatsAppSendError(
            f"{what} secret lacks {', '.join(missing)}: cannot send", transient=False
        )


def sender_for_tenant(
    tenant: Tenant,
    secrets: SecretReader,
    *,
    sent_log: SentLog | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
) -> WhatsAppSender:
    """The tenant's WhatsApp sender. Raises a permanent :class:`WhatsAppSendError` when the
    tenant has no gateway or its secret lacks a field (nothing to retry until an admin
    configures it). With ``sent_log`` every message is sent once per idempotency key and
    its id recorded for the echo check."""
    gateway = tenant.integrations.whatsapp_gateway
    if gateway is None:
        raise WhatsAppSendError(
            f"tenant {tenant.tenant_id} has no WhatsApp gateway configured", transient=False
        )
    secret = secrets.get(tenant.tenant_id, gateway)
    if secret is None:
        raise WhatsAppSendError(
            f"tenant {tenant.tenant_id} has no {gateway} secret", transient=False
        )
    values = secret.current
    client: ZapiClient | EvolutionClient
    if gateway == "zapi":
        _fields(values, ZAPI_FIELDS, "zapi")
        client = ZapiClient(
            instance_id=values["instance_id"],
            instance_token=values["instance_token"],
            client_token=values["client_token"],
            base_url=values.get("base_url") or ZAPI_DEFAULT_BASE_URL,
        )
    else:
        _fields(values, EVOLUTION_FIELDS, "evolution")
        version = values.get("api_version", "v2")
        if version not in ("v1", "v2"):
            raise WhatsAppSendError(
                f"evolution api_version {version!r} is not v1 or v2", transient=False
            )
        client = EvolutionClient(
            base_url=values["base_url"],
            instance=values["instance"],
            apikey=values["apikey"],
            version="v1" if version == "v1" else "v2",
        )
    sender: WhatsAppSender = ResilientSender(client, policy)
    if sent_log is not None:
        sender = RecordingSender(sender, sent_log)
    return sender
