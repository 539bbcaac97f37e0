"""Key builders for the main table. Every item's partition key starts with its tenant.

Keys are built only here so a tenant id (validated as a slug, see ``TenantId``) is the
single way into a partition: one tenant's keys can never reach another's.
"""

from __future__ import annotations

import re

from atende_shared.models.common import TENANT_ID_PATTERN

PK = "PK"
SK = "SK"
GSI1 = "GSI1"
GSI1_PK = "GSI1PK"
GSI1_SK = "GSI1SK"
GSI2 = "GSI2"
GSI2_PK = "GSI2PK"
GSI2_SK = "GSI2SK"
TTL_ATTRIBUTE = "expires_at"  # main table; the idempotency table uses "expiration"
IDEMPOTENCY_KEY = "id"
IDEMPOTENCY_TTL_ATTRIBUTE = "expiration"

TENANT_LIST_PARTITION = "TENANTS"
_TENANT_RE = re.compile(TENANT_ID_PATTERN)


def tenant_pk(tenant_id: str) -> str:
    """Partition key of everything a tenant owns; refuses anything but a valid slug."""
    if not _TENANT_RE.fullmatch(tenant_id):
        raise ValueError(f"invalid tenant id {tenant_id!r}")
    return f"TENANT#{tenant_id}"


PROFILE_SK = "PROFILE"
AGENT_SK = "AGENT"
BALANCE_SK = "BALANCE"
MENU_META_SK = "MENU#META"
MENU_ITEM_PREFIX = "MENU#ITEM#"
PHONE_PREFIX = "PHONE#"
CALL_PREFIX = "CALL#"
ORDER_PREFIX = "ORDER#"
ORDER_NUMBER_PREFIX = "ORDERNO#"
ORDER_COUNTER_SK = "COUNTER#ORDER_NUMBER"
LEDGER_PREFIX = "LEDGER#"
SYNC_CURSOR_PREFIX = "SYNC#CURSOR#"
SYNC_RUN_PREFIX = "SYNC#RUN#"
LEASE_PREFIX = "LEASE#"
WHATSAPP_SENT_PREFIX = "WA#SENT#"  # a logical WhatsApp message sent (by idempotency key)
WHATSAPP_OUT_PREFIX = "WA#OUT#"  # a WhatsApp message we sent, by the gateway's message id
WHATSAPP_CONVERSATION_PREFIX = "WA#CONV#"  # a WhatsApp conversation's session, by customer
WHATSAPP_PAUSE_PREFIX = "WA#PAUSE#"  # a paused WhatsApp conversation (human takeover)
WHATSAPP_RATE_PREFIX = "WA#RATE#"  # a customer's messages in one minute
WHATSAPP_LLM_PREFIX = "WA#LLM#"  # a tenant's LLM turns in one day
WHATSAPP_LID_PREFIX = "WA#LID#"  # a WhatsApp @lid id → the phone number it stands for


def menu_item_sk(item_id: str) -> str:
    return f"{MENU_ITEM_PREFIX}{item_id}"


def phone_sk(e164: str) -> str:
    return f"{PHONE_PREFIX}{e164}"


def phone_lookup_pk(e164: str) -> str:
    """GSI1 partition that finds the tenant owning a number (a number has one owner)."""
    return f"{PHONE_PREFIX}{e164}"
