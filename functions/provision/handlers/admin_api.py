"""Admin API Lambda (API Gateway REST proxy): parse, call one logic function, answer.

Validation and error mapping come from ``atende_shared.http.build_resolver``; the
routes' typed models generate the OpenAPI document the local platform serves.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import unquote

from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from atende_shared.dal.customers import customer_store
from atende_shared.dal.tenants import TenantStore, tenant_store
from atende_shared.errors import (
    DependencyUnavailable,
    ValidationFailed,
)
from atende_shared.http import (
    TenantPath,
    build_resolver,
    documented_responses,
    request_correlation_id,
)
from atende_shared.messaging import EventBridgePublisher, SqsQueueSender
from atende_shared.models.common import normalise_e164
from atende_shared.models.menu import MenuUpload
from atende_shared.observability import instrumented
from atende_shared.pagination import (
    DEFAULT_LIMIT,
    CursorScope,
    Page,
    PageCursor,
    PageLimit,
    open_cursor,
    page_of,
    page_slice,
)
from atende_shared.settings import load_settings
from functions.provision.dal.phones import PhoneStore, phone_store
from functions.provision.dal.users import CognitoUserDirectory
from functions.provision.logic import agent_menu, phones, tenants, users
from functions.provision.logic.call_token import issue_test_call_token
from functions.provision.models.api import (
    AgentConfigInput,
    AgentConfigView,
    MenuView,
    PhoneNumberAssign,
    PhoneNumberView,
    ShopSettingsPatch,
    StatusChange,
    TenantCreate,
    TenantPatch,
    TenantView,
    TestCallToken,
)
from functions.provision.models.users import TenantUserView, UserInvite
from functions.provision.settings import AdminApiSettings


def _max_body_bytes() -> int:
    return load_settings(AdminApiSettings).admin_max_body_bytes


app = build_resolver(title="Atende admin API", max_body_bytes=_max_body_bytes)

# Only where this API says more than atende_shared.http.ERROR_DESCRIPTIONS.
_ERROR_TEXT = {
    404: "Unknown tenant or number (another tenant's data answers the same)",
    409: "Conflict: already exists, or the number belongs to another tenant",
    503: "A dependency (DynamoDB, SQS, EventBridge, LiveKit) failed; retry",
}


def _responses(status: int, description: str, *errors: int) -> dict[int, OpenAPIResponse]:
    return documented_responses(status, description, *errors, descriptions=_ERROR_TEXT)


_BODY_ERRORS = (400, 404, 413, 415)


_TENANTS = ["tenants"]


def _settings() -> AdminApiSettings:
    return load_settings(AdminApiSettings)


def _store() -> TenantStore:
    return tenant_store(_settings().main_table)


def _phones() -> PhoneStore:
    return phone_store(_settings().main_table)


def _publisher() -> EventBridgePublisher:
    return EventBridgePublisher(_settings().event_bus_name)


def _correlation_id() -> str:
    return request_correlation_id(app) or "admin-api"


# -- tenants -------------------------------------------------------------------------------


@app.post(
    "/v1/tenants",
    status_code=201,
    summary="Create a tenant",
    tags=_TENANTS,
    responses=_responses(201, "The tenant", *_BODY_ERRORS, 409),
)
def create_tenant(body: Annotated[TenantCreate, Body()]) -> TenantView:
    return TenantView.of(tenants.create_tenant(_store(), body))


@app.get(
    "/v1/tenants",
    summary="List tenants (paginated)",
    tags=_TENANTS,
    responses=_responses(200, "A page of tenants"),
)
def list_tenants(limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None) -> Page[TenantView]:
    scope = CursorScope("tenants")
    position = open_cursor(cursor, scope)
    after = str(position["pk"]) if position and "pk" in position else None
    views, last = tenants.list_tenants(_store(), limit=limit, after=after)
    return page_of(views, {"pk": last} if last else None, scope)


@app.get(
    "/v1/tenants/<tenant_id>",
    summary="Get a tenant",
    tags=_TENANTS,
    responses=_responses(200, "The tenant", 404),
)
def get_tenant(tenant_id: TenantPath) -> TenantView:
    return TenantView.of(_store().get_tenant(tenant_id))


@app.patch(
    "/v1/tenants/<tenant_id>",
    summary="Change a tenant's profile",
    tags=_TENANTS,
    responses=_responses(200, "The updated tenant", *_BODY_ERRORS, 412),
)
def patch_tenant(
    tenant_id: TenantPath,
    body: Annotated[TenantPatch, Body()],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=40,
            description="the tenant's `version` as last read; 412 if it changed since",
        ),
    ] = None,
) -> TenantView:
    expected = tenants.parse_if_match(if_match)
    return TenantView.of(tenants.patch_tenant(_store(), tenant_id, body, expected_version=expected))


@app.patch(
    "/v1/tenants/<tenant_id>/shop",
    summary="Change the restaurant's own settings",
    description=(
        "Languages, opening hours, the WhatsApp told of new orders and the acceptance "
        "window: what the restaurant's owner may change from the console. Plan, "
        "integrations and status stay with `PATCH /v1/tenants/{tenant_id}` (admins)."
    ),
    tags=_TENANTS,
    responses=_responses(200, "The updated tenant", *_BODY_ERRORS, 412),
)
def patch_shop(
    tenant_id: TenantPath,
    body: Annotated[ShopSettingsPatch, Body()],
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            max_length=40,
            description="the tenant's `version` as last read; 412 if it changed since",
        ),
    ] = None,
) -> TenantView:
    expected = tenants.parse_if_match(if_match)
    return TenantView.of(tenants.patch_shop(_store(), tenant_id, body, expected_version=expected))


@app.post(
    "/v1/tenants/<tenant_id>/suspend",
    summary="Suspend a tenant",
    tags=_TENANTS,
    responses=_responses(200, "The status change", 404),
)
def suspend_tenant(tenant_id: TenantPath) -> StatusChange:
    return tenants.change_status(
        _store(), _publisher(), tenant_id, suspend=True, correlation_id=_correlation_id()
    )


@app.post(
    "/v1/tenants/<tenant_id>/resume",
    summary="Resume a suspended tenant",
    tags=_TENANTS,
    responses=_responses(200, "The status change", 404, 409),
)
def resume_tenant(tenant_id: TenantPath) -> StatusChange:
    return tenants.change_status(
        _store(), _publisher(), tenant_id, suspend=False, correlation_id=_correlation_id()
    )


# -- agent and menu -----------------------------------------------------------------------


@app.put(
    "/v1/tenants/<tenant_id>/agent",
    summary="Set the agent configuration",
    tags=["agent"],
    responses=_responses(200, "The stored configuration", *_BODY_ERRORS),
)
def put_agent(tenant_id: TenantPath, body: Annotated[AgentConfigInput, Body()]) -> AgentConfigView:
    config = agent_menu.put_agent_config(_store(), tenant_id, body)
    return AgentConfigView.model_validate(config.model_dump())


@app.get(
    "/v1/tenants/<tenant_id>/agent",
    summary="Get the agent configuration",
    tags=["agent"],
    responses=_responses(200, "The configuration (defaults until set)", 404),
)
def get_agent(tenant_id: TenantPath) -> AgentConfigView:
    config = agent_menu.get_agent_config(_store(), tenant_id)
    return AgentConfigView.model_validate(config.model_dump())


@app.put(
    "/v1/tenants/<tenant_id>/menu",
    summary="Upload the whole menu",
    tags=["menu"],
    responses=_responses(200, "The stored menu and its version", *_BODY_ERRORS),
)
def put_menu(tenant_id: TenantPath, body: Annotated[MenuUpload, Body()]) -> MenuView:
    menu, version, changed = agent_menu.put_menu(
        _store(), _publisher(), tenant_id, body, correlation_id=_correlation_id()
    )
    return MenuView(menu=menu, menu_version=version, changed=changed)


@app.get(
    "/v1/tenants/<tenant_id>/menu",
    summary="Get the menu",
    tags=["menu"],
    responses=_responses(200, "The menu and its version", 404),
)
def get_menu(tenant_id: TenantPath) -> MenuView:
    menu, version = agent_menu.get_menu(_store(), tenant_id)
    return MenuView(menu=menu, menu_version=version)


# -- phone numbers -------------------------------------------------------------------------

_PHONES = ["phone-numbers"]


@app.post(
    "/v1/tenants/<tenant_id>/phone-numbers",
    status_code=202,
    summary="Assign a number (provisioned asynchronously)",
    tags=_PHONES,
    responses=_responses(202, "Assigned; provisioning queued", *_BODY_ERRORS, 409),
)
def assign_number(
    tenant_id: TenantPath, body: Annotated[PhoneNumberAssign, Body()]
) -> PhoneNumberView:
    record = phones.assign(
        _store(),
        _phones(),
        SqsQueueSender(),
        queue_url=_settings().provisioning_queue_url,
        tenant_id=tenant_id,
        raw_number=body.number,
        correlation_id=_correlation_id(),
    )
    return PhoneNumberView.model_validate(record.model_dump())


@app.get(
    "/v1/tenants/<tenant_id>/phone-numbers",
    summary="List numbers",
    tags=_PHONES,
    responses=_responses(200, "The tenant's numbers", 404),
)
def list_numbers(
    tenant_id: TenantPath, limit: PageLimit = DEFAULT_LIMIT, cursor: PageCursor = None
) -> Page[PhoneNumberView]:
    records = phones.list_numbers(_store(), _phones(), tenant_id)
    views = [PhoneNumberView.model_validate(r.model_dump()) for r in records]
    return page_slice(
        views, limit=limit, cursor=cursor, scope=CursorScope("phone-numbers", tenant_id)
    )


@app.delete(
    "/v1/tenants/<tenant_id>/phone-numbers/<number>",
    status_code=202,
    summary="Release a number (asynchronously)",
    tags=_PHONES,
    responses=_responses(202, "Release queued", 404),
)
def release_number(
    tenant_id: TenantPath,
    number: Annotated[str, Path(min_length=3, max_length=32, description="E.164, URL-encoded")],
) -> PhoneNumberView:
    record = phones.request_release(
        _phones(),
        SqsQueueSender(),
        queue_url=_settings().provisioning_queue_url,
        tenant_id=tenant_id,
        # REST APIs may hand the path over still percent-encoded ("%2B55..."): decode once.
        raw_number=unquote(number),
        correlation_id=_correlation_id(),
    )
    return PhoneNumberView.model_validate(record.model_dump())


# -- customers (LGPD) ----------------------------------------------------------------------


@app.delete(
    "/v1/tenants/<tenant_id>/customers/<phone>",
    status_code=204,
    summary="Forget a customer (name and last order), on their request",
    tags=["customers"],
    responses=_responses(204, "Forgotten (or never known)", 404),
)
def forget_customer(
    tenant_id: TenantPath,
    phone: Annotated[str, Path(min_length=3, max_length=32, description="E.164, URL-encoded")],
) -> None:
    _store().get_tenant(tenant_id)  # 404 for an unknown tenant
    try:
        number = normalise_e164(unquote(phone))
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from exc
    customer_store(_settings().main_table).delete(tenant_id, number)


# -- test calls ----------------------------------------------------------------------------


@app.post(
    "/v1/tenants/<tenant_id>/test-call-token",
    summary="Mint a short-lived LiveKit token to talk to the agent",
    tags=["agent"],
    responses=_responses(200, "A short-lived token", 404),
)
def test_call_token(tenant_id: TenantPath) -> TestCallToken:
    settings = _settings()
    return issue_test_call_token(
        _store(),
        tenant_id,
        api_key=settings.livekit_api_key,
        api_secret=settings.resolved_api_secret(),
        livekit_url=settings.livekit_url,
        agent_name=settings.voice_agent_name,
        ttl_seconds=settings.test_call_token_ttl_seconds,
    )


# -- restaurant users ----------------------------------------------------------------------


@app.post(
    "/v1/tenants/<tenant_id>/users",
    status_code=201,
    summary="Invite a restaurant user (console sign-in)",
    description=(
        "Creates the user in the tenant-user pool with `custom:tenant_id` and `custom:role`; "
        "Cognito e-mails a temporary password, changed at the first sign-in."
    ),
    tags=["users"],
    responses=_responses(201, "The invited user", *_BODY_ERRORS, 409),
)
def invite_user(tenant_id: TenantPath, body: Annotated[UserInvite, Body()]) -> TenantUserView:
    pool = _settings().tenant_user_pool_id
    if not pool:
        raise DependencyUnavailable("no tenant-user pool configured (ATENDE_TENANT_USER_POOL_ID)")
    return users.invite_user(_store(), CognitoUserDirectory(pool), tenant_id, body)


# -- entry point ---------------------------------------------------------------------------


@instrumented(AdminApiSettings, correlation_id_path=correlation_paths.API_GATEWAY_REST)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
