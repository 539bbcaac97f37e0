"""Composition root of the WhatsApp channel: settings, and the DynamoDB, Secrets Manager,
EventBridge and gateway implementations behind the conversation logic's protocols."""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities import parameters
from pydantic import Field, SecretStr

from atende_shared.dal.opt_outs import opt_out_store
from atende_shared.dal.order_numbers import order_numbers
from atende_shared.dal.tenants import tenant_store
from atende_shared.messaging import EventBridgePublisher
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant
from atende_shared.observability import logger
from atende_shared.settings import EventBusSettings, MainTableSettings, ServiceSettings
from atende_shared.tenant_secrets import SecretsManagerReader
from atende_shared.whatsapp import WhatsAppSender
from atende_shared.whatsapp.factory import sender_for_tenant
from atende_shared.whatsapp.sent import sent_log
from functions.orders.dal.sessions import conversation_store
from functions.orders.logic.chat_llm import OpenAIChat
from functions.orders.logic.conversation import ConversationDeps

#: Where the platform's OpenAI key lives (the voice agent reads the same secret).
OPENAI_SECRET = "providers/openai-api-key"  # noqa: S105 - a name, not a value
#: Agent config and menu are re-read at most this often per warm container.
CONTEXT_CACHE_SECONDS = 30.0


class WhatsAppAdminSettings(ServiceSettings, MainTableSettings):
    """The conversations admin API."""


class WhatsAppChannelSettings(ServiceSettings, MainTableSettings, EventBusSettings):
    """The WhatsApp conversation consumer."""

    #: Locally (and in tests) the key comes from the environment; in AWS from the
    #: ``providers/openai-api-key`` secret. Neither: the offline brain answers.
    openai_api_key: SecretStr | None = Field(None, validation_alias="OPENAI_API_KEY")
    openai_model: str = Field("gpt-4o-mini", validation_alias="ATENDE_WHATSAPP_LLM_MODEL")


class CachedTenants:
    """The tenant (always fresh: its status and settings), its agent config and menu
    (cached briefly: one turn per message would otherwise re-read the whole menu)."""

    def __init__(self, table_name: str, ttl: float = CONTEXT_CACHE_SECONDS) -> None:
        self._store = tenant_store(table_name)
        self._ttl = ttl
        self._cache: dict[tuple[str, str], tuple[float, Any]] = {}

    def _cached(self, kind: str, tenant_id: str, load: Any) -> Any:
        now = time.monotonic()
        hit = self._cache.get((kind, tenant_id))
        if hit is not None and now - hit[0] < self._ttl:
            return hit[1]
        value = load(tenant_id)
        self._cache[(kind, tenant_id)] = (now, value)
        return value

    def get_tenant(self, tenant_id: str) -> Tenant:
        return self._store.get_tenant(tenant_id)

    def get_agent_config(self, tenant_id: str) -> AgentConfig:
        config: AgentConfig = self._cached("agent", tenant_id, self._store.get_agent_config)
        return config

    def get_menu(self, tenant_id: str) -> Menu:
        menu: Menu = self._cached("menu", tenant_id, self._store.get_menu)
        return menu


def _openai_key(settings: WhatsAppChannelSettings) -> str | None:
    if settings.openai_api_key is not None:
        return settings.openai_api_key.get_secret_value() or None
    if settings.stage == "local":
        return None
    try:
        value: Any = parameters.get_secret(f"atende/{settings.stage}/{OPENAI_SECRET}", max_age=300)
    except parameters.exceptions.GetParameterError as exc:
        logger.warning("no OpenAI key; the offline brain answers", extra={"reason": str(exc)})
        return None
    return str(value) if value else None


@cache
def whatsapp_deps(settings: WhatsAppChannelSettings) -> ConversationDeps:
    """The conversation's dependencies, built once per container."""
    secrets = SecretsManagerReader(settings.stage)
    sent = sent_log(settings.main_table)

    def sender_for(tenant: Tenant, gateway: str) -> WhatsAppSender:
        # Reply through the gateway the customer wrote through.
        integrations = tenant.integrations.model_copy(update={"whatsapp_gateway": gateway})
        routed = tenant.model_copy(update={"integrations": integrations})
        return sender_for_tenant(routed, secrets, sent_log=sent)

    key = _openai_key(settings)
    numbers = order_numbers(settings.main_table)
    return ConversationDeps(
        store=conversation_store(settings.main_table),
        tenants=CachedTenants(settings.main_table),
        sender_for=sender_for,
        sent=sent,
        publisher=EventBridgePublisher(settings.event_bus_name),
        chat=OpenAIChat(api_key=key, model=settings.openai_model) if key else None,
        # The kitchen's sequential number, told to the customer at confirmation.
        allocate_number=lambda tenant_id, _order_id: numbers.next_number(tenant_id),
        opt_outs=opt_out_store(settings.main_table),
    )
