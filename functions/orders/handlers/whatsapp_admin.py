"""WhatsApp conversations in the admin API: see one, pause the bot in it, resume it."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from atende_shared.dal.tenants import tenant_store
from atende_shared.http import build_resolver, documented_responses
from atende_shared.models.common import TENANT_ID_PATTERN
from atende_shared.observability import instrumented
from atende_shared.settings import load_settings
from functions.orders.dal.sessions import conversation_store
from functions.orders.handlers.whatsapp_deps import WhatsAppAdminSettings
from functions.orders.logic import conversation_admin as logic
from functions.orders.models.whatsapp import ConversationView, PauseRequest

app = build_resolver(title="Atende WhatsApp conversations API")
_BASE = "/v1/tenants/<tenant_id>/whatsapp/conversations/<customer>"
TenantPath = Annotated[str, Path(pattern=TENANT_ID_PATTERN, max_length=63)]
CustomerPath = Annotated[str, Path(min_length=6, max_length=128)]


def _context(tenant_id: str, customer: str) -> tuple[Any, str, Any]:
    settings = load_settings(WhatsAppAdminSettings)
    tenant = tenant_store(settings.main_table).get_tenant(tenant_id)
    return tenant, logic.customer_key(customer), conversation_store(settings.main_table)


@app.get(
    _BASE,
    summary="One WhatsApp conversation: session, cart, order, pause",
    tags=["whatsapp"],
    responses=documented_responses(200, "The conversation", 404),
)
def get_conversation(tenant_id: TenantPath, customer: CustomerPath) -> ConversationView:
    tenant, key, store = _context(tenant_id, customer)
    return logic.view(tenant, key, store=store)


@app.post(
    f"{_BASE}/pause",
    summary="Pause the bot in a conversation (a person answers)",
    tags=["whatsapp"],
    responses=documented_responses(200, "The conversation, paused", 404),
)
def pause_conversation(
    tenant_id: TenantPath,
    customer: CustomerPath,
    request: Annotated[PauseRequest, Body()],
) -> ConversationView:
    tenant, key, store = _context(tenant_id, customer)
    return logic.pause(tenant, key, request, store=store)


@app.post(
    f"{_BASE}/resume",
    summary="Resume the bot in a conversation",
    tags=["whatsapp"],
    responses=documented_responses(200, "The conversation, answered by the bot again", 404),
)
def resume_conversation(tenant_id: TenantPath, customer: CustomerPath) -> ConversationView:
    tenant, key, store = _context(tenant_id, customer)
    return logic.resume(tenant, key, store=store)


@instrumented(WhatsAppAdminSettings)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
