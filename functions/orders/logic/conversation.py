"""One WhatsApp message → at most one reply, on the same ordering core as the phone.

The steps, in order (each answers an outcome label that the handler logs and counts):

1. the tenant's channel is off, the delivery is not a message, or it is a group chat the
   tenant did not enable → ignored;
2. a ``@lid`` is mapped to the phone it stands for (remembered when the gateway gives both);
3. ``fromMe``: our own reply's echo (its id is in the sent-message log) → ignored; an echo
   we did not send is a person answering on the restaurant's phone → the bot pauses this
   conversation for the tenant's ``human_pause_hours``;
4. "PARAR"/"VOLTAR" as the whole message → the customer's opt-out of order notifications
   is recorded (or lifted) and acknowledged; a paused conversation → silent until the
   pause ends or an admin resumes it;
5. a message already answered (same id: a redelivery) → the same reply is re-sent, which
   the sender's idempotency key turns into nothing when it went out already;
6. the per-customer rate limit: over ``messages_per_minute_per_customer`` the first extra
   message gets one "slow down" reply and the rest of the burst none;
7. the turn: text (and captions) go to the LLM with the core's tools while the tenant's
   daily LLM-turn cap lasts, else (or when the LLM fails) to the offline brain; a location
   fills the delivery address; audio, images, files, stickers and contacts get a helpful
   sentence; asking for a person hands off (pause + the restaurant is told);
8. the session is written conditionally on the version read, then the reply is sent.

A confirmed order closes the session (the next message starts a new conversation); an
idle session expires after the tenant's ``session_idle_minutes``.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from atende_shared.errors import DependencyUnavailable, NotFound, PermanentFailure
from atende_shared.models.common import utc_now
from atende_shared.models.envelope import InboundEvent
from atende_shared.models.menu import Menu
from atende_shared.models.tenant import AgentConfig, Tenant, TenantStatus
from atende_shared.observability import logger
from atende_shared.ordering import tools
from atende_shared.ordering.dialogue import respond, speakable
from atende_shared.ordering.prompts import Lang, lang_of, text
from atende_shared.ordering.state import EventPublisher, OrderState
from atende_shared.ports.opt_outs import (
    OptOutStore,
    is_opt_in_request,
    is_opt_out_request,
    opt_in,
    opt_out,
)
from atende_shared.whatsapp import OutboundText, WhatsAppSender, WhatsAppSendError
from functions.orders.logic.chat_llm import LLMUnavailable, OpenAIChat, llm_turn
from functions.orders.logic.chat_ports import ConversationStore
from functions.orders.logic.chat_texts import say
from functions.orders.logic.inbound import parse_inbound, phone_of
from functions.orders.logic.state_codec import dump_state, load_state
from functions.orders.models.whatsapp import (
    ChatMessage,
    ChatTurn,
    Pause,
    PauseReason,
    Session,
)

_RESPOND_PARAMETERS = frozenset(inspect.signature(respond).parameters)
#: What the brain reads of one message (the rest is acknowledged, not interpreted).
MAX_TURN_CHARS = 1_000
HISTORY_TURNS = 12
SEEN_KEPT = 30
REPLIES_KEPT = 10
MAX_REPLY_CHARS = 4_096


class TenantReader(Protocol):
    def get_tenant(self, tenant_id: str) -> Tenant: ...
    def get_agent_config(self, tenant_id: str) -> AgentConfig: ...
    def get_menu(self, tenant_id: str) -> Menu: ...


class SentMessages(Protocol):
    def is_ours(self, tenant_id: str, message_id: str) -> bool: ...


#: The tenant's sender through one gateway (the one the customer wrote through).
SenderFor = Callable[[Tenant, str], WhatsAppSender]
#: The kitchen's next order number for (tenant id, order id).
NumberAllocator = Callable[[str, str], int]


@dataclass
class ConversationDeps:
    store: ConversationStore
    tenants: TenantReader
    sender_for: SenderFor
    sent: SentMessages
    publisher: EventPublisher
    chat: OpenAIChat | None = None
    allocate_number: NumberAllocator | None = None
    #: Who asked for no more order notifications ("PARAR"); the orders domain honours it.
    opt_outs: OptOutStore | None = None
    now: Callable[[], datetime] = field(default=utc_now)

    def core_options(self) -> dict[str, Any]:
        """What the core's turn takes besides the state: the kitchen's number allocator,
        where this core accepts one (it tells the customer the kitchen's number)."""
        if self.allocate_number is not None and "allocate_number" in _RESPOND_PARAMETERS:
            return {"allocate_number": self.allocate_number}
        return {}


def handle_message(event: InboundEvent, deps: ConversationDeps) -> str:
    """Handle one queued WhatsApp delivery; the outcome label. Raises (so the SQS record
    is retried, then parked in the DLQ) only for what a retry can fix: storage, the
    gateway, a concurrent turn on the same conversation."""
    return asyncio.run(_handle(event, deps))


async def _handle(event: InboundEvent, deps: ConversationDeps) -> str:
    if event.tenant_id is None:
        return "ignored_no_tenant"
    try:
        tenant = deps.tenants.get_tenant(event.tenant_id)
    except NotFound:
        return "ignored_unknown_tenant"
    if not tenant.whatsapp.enabled:
        return "ignored_disabled"
    if tenant.status is not TenantStatus.ACTIVE:
        # Suspended (balance, admin) or closed: the bot takes no orders, as the phone
        # refuses calls; the restaurant's own phone still gets the messages.
        return "ignored_tenant_inactive"
    message = parse_inbound(event)
    if message is None:
        return "ignored_not_a_message"
    if message.is_group and not tenant.whatsapp.group_chats:
        return "ignored_group"
    message = _resolve_lid(tenant.tenant_id, message, deps.store)
    now = deps.now()
    customer = message.customer

    if message.from_me:
        if deps.sent.is_ours(tenant.tenant_id, message.message_id) or _is_recent_reply(
            deps, tenant.tenant_id, customer, message.text
        ):
            return "own_echo"
        if message.from_api:
            return "api_echo"  # another integration's message, not a person typing
        _pause(deps, tenant, customer, now, "human_reply")
        return "paused_by_human"

    if deps.opt_outs is not None and message.phone and message.kind == "text":
        answered = _opt_out_or_in(deps, deps.opt_outs, tenant, message)
        if answered is not None:
            return answered

    pause = deps.store.get_pause(tenant.tenant_id, customer)
    if pause is not None and pause.paused_until > now:
        return "paused"

    session = deps.store.get_session(tenant.tenant_id, customer)
    if session is not None and message.message_id in session.seen:
        _send(deps, tenant, message, session.replies.get(message.message_id))
        return "duplicate"

    agent_config = _agent_config(deps, tenant.tenant_id)
    lang = lang_of(agent_config.language)
    count = deps.store.count_message(tenant.tenant_id, customer, now.strftime("%Y%m%d%H%M"))
    limit = tenant.whatsapp.messages_per_minute_per_customer
    if count > limit:
        if count == limit + 1:
            _send(
                deps,
                tenant,
                message,
                [say("rate_limited", lang)],
                key=f"wa-rate:{customer}:{now:%Y%m%d%H%M}",
            )
            return "rate_limited"
        return "rate_limited_silent"

    live = (
        session if session is not None and not session.closed and session.expires_at > now else None
    )
    menu = deps.tenants.get_menu(tenant.tenant_id)
    if live is not None:
        state = load_state(
            live.state,
            tenant=tenant,
            agent_config=agent_config,
            menu=menu,
            correlation_id=event.correlation_id,
        )
    else:
        state = OrderState(
            tenant=tenant,
            agent_config=agent_config,
            menu=menu,
            conversation_id=_conversation_id(tenant.tenant_id, customer, message.message_id),
            channel="whatsapp",
            caller_number=message.phone,
            correlation_id=event.correlation_id,
        )
    turn = _Turn(deps=deps, tenant=tenant, state=state, lang=lang, new=live is None)
    before = dump_state(state)
    try:
        await turn.run(message, live.history if live else [])
    except DependencyUnavailable:
        raise  # storage or a provider: the record is retried
    except Exception:
        # A bug in a turn must not stick the conversation (its message retried until the
        # DLQ while the customer waits): apologise, keep the state as it was, carry on.
        logger.exception("whatsapp turn failed; apologised", extra={"customer": customer})
        state = load_state(
            before,
            tenant=tenant,
            agent_config=agent_config,
            menu=menu,
            correlation_id=event.correlation_id,
        )
        turn = _Turn(deps=deps, tenant=tenant, state=state, lang=lang, new=live is None)
        turn.replies = [say("trouble", lang)]

    outcome = "answered"
    if turn.handed_off:
        _pause(deps, tenant, customer, now, "hand_off")
        _notify_restaurant(deps, tenant, message, state.conversation_id)
        outcome = "handed_off"
    elif state.order is not None:
        outcome = "ordered"

    history = [*(live.history if live else []), *turn.history][-HISTORY_TURNS:]
    replies = dict(list((session.replies if session else {}).items())[-(REPLIES_KEPT - 1) :])
    replies[message.message_id] = turn.replies
    deps.store.save_session(
        Session(
            tenant_id=tenant.tenant_id,
            customer=customer,
            conversation_id=state.conversation_id,
            chat_id=_reply_to(message),
            version=(session.version + 1) if session else 1,
            state=dump_state(state),
            history=history,
            seen=[*(session.seen if session else []), message.message_id][-SEEN_KEPT:],
            replies=replies,
            turns=(live.turns if live else 0) + 1,
            closed=state.order is not None,
            created_at=live.created_at if live else now,
            updated_at=now,
            expires_at=now + timedelta(minutes=tenant.whatsapp.session_idle_minutes),
        ),
        expected_version=session.version if session else None,
    )
    _send(deps, tenant, message, turn.replies)
    return outcome


@dataclass
class _Turn:
    """One message's reply, worked out against the core."""

    deps: ConversationDeps
    tenant: Tenant
    state: OrderState
    lang: Lang
    new: bool
    replies: list[str] = field(default_factory=list)
    history: list[ChatTurn] = field(default_factory=list)
    handed_off: bool = False

    async def _hand_off(self) -> None:
        self.handed_off = True

    async def run(self, message: ChatMessage, history: list[ChatTurn]) -> None:
        if message.kind == "location":
            self._location(message)
        elif message.kind == "text" or message.text.strip():
            await self._text(message.text, history)
        else:
            self.replies.append(say(message.kind, self.lang))
        if self.new and not self.handed_off:
            self.replies.insert(0, say("greeting", self.lang, business=self.tenant.name))
        if self.handed_off:
            self.replies = [say("handed_off", self.lang)]

    def _location(self, message: ChatMessage) -> None:
        address = message.location.as_address() if message.location else None
        if address is None:
            self.replies.append(say("location_unreadable", self.lang))
            return
        try:
            said = tools.set_fulfilment(self.state, "delivery", address=address)
        except tools.Refusal as refusal:
            said = refusal.message
        self.replies.append(speakable(said))

    async def _text(self, raw: str, history: list[ChatTurn]) -> None:
        words = raw.strip()
        truncated = len(words) > MAX_TURN_CHARS
        words = words[:MAX_TURN_CHARS]
        said = await self._llm(words, history) if self.deps.chat else None
        if said is None:
            reply = await respond(
                self.state,
                words,
                publisher=self.deps.publisher,
                hand_off=self._hand_off,
                **self.deps.core_options(),
            )
            goodbye = text("goodbye", self.lang)  # the phone's "thanks for calling"
            said = [m for m in reply.messages if m != goodbye]
            if self.new and not reply.results:
                said = []  # a first "oi" gets the greeting, not "sorry, I did not understand"
        if truncated:
            said.append(say("too_long", self.lang))
        self.replies += said
        self.history = [
            ChatTurn(role="user", content=words[:4_096]),
            ChatTurn(role="assistant", content=" ".join(said)[:4_096] or "-"),
        ]

    async def _llm(self, words: str, history: list[ChatTurn]) -> list[str] | None:
        assert self.deps.chat is not None
        day = self.deps.now().strftime("%Y-%m-%d")
        used = self.deps.store.count_llm_turn(self.tenant.tenant_id, day)
        if used > self.tenant.whatsapp.daily_llm_turn_cap:
            return None
        before = dump_state(self.state)
        try:
            return await llm_turn(
                self.deps.chat,
                self.state,
                history,
                words,
                publisher=self.deps.publisher,
                hand_off=self._hand_off,
                options=self.deps.core_options(),
            )
        except LLMUnavailable as exc:
            logger.warning("llm unavailable; offline brain", extra={"reason": str(exc)})
            # Undo what the LLM's tools did this turn, so the brain starts from the same cart
            # (an order it already placed stays placed: its id is derived, never repeated).
            placed = self.state.order
            self.state = load_state(
                before,
                tenant=self.state.tenant,
                agent_config=self.state.agent_config,
                menu=self.state.menu,
                correlation_id=self.state.correlation_id,
            )
            self.state.order = placed or self.state.order
            self.handed_off = False
            return None


def _opt_out_or_in(
    deps: ConversationDeps, opt_outs: OptOutStore, tenant: Tenant, message: ChatMessage
) -> str | None:
    """ "PARAR" (or "VOLTAR") as the whole message: the customer's order notifications stop
    (or resume) and they are told so; None for any other message."""
    assert message.phone is not None
    if is_opt_out_request(message.text):
        opt_out(tenant.tenant_id, message.phone, store=opt_outs)
        key, outcome = "opted_out", "opted_out"
    elif is_opt_in_request(message.text):
        opt_in(tenant.tenant_id, message.phone, store=opt_outs)
        key, outcome = "opted_in", "opted_in"
    else:
        return None
    lang = lang_of(_agent_config(deps, tenant.tenant_id).language)
    _send(deps, tenant, message, [say(key, lang)])
    return outcome


def _reply_body(replies: list[str] | None) -> str:
    return "\n\n".join(r for r in (replies or []) if r.strip())[:MAX_REPLY_CHARS]


def _is_recent_reply(deps: ConversationDeps, tenant_id: str, customer: str, text: str) -> bool:
    """Whether ``text`` is one of this conversation's recent replies: the echo of a reply
    can overtake the write of its id to the sent log (the gateway posts it while our send
    call is still returning)."""
    if not text.strip():
        return False
    session = deps.store.get_session(tenant_id, customer)
    if session is None:
        return False
    return any(_reply_body(replies) == text for replies in session.replies.values())


def _agent_config(deps: ConversationDeps, tenant_id: str) -> AgentConfig:
    try:
        return deps.tenants.get_agent_config(tenant_id)
    except NotFound:
        return AgentConfig(tenant_id=tenant_id)


def _conversation_id(tenant_id: str, customer: str, first_message_id: str) -> str:
    """Stable for the conversation's first message: a retried first turn (after a failed
    session write) derives the same id, hence the same order id."""
    digest = hashlib.sha256(f"{tenant_id}:{customer}:{first_message_id}".encode()).hexdigest()
    return f"wa-{digest[:24]}"


def _resolve_lid(tenant_id: str, message: ChatMessage, store: ConversationStore) -> ChatMessage:
    if message.lid is None or message.is_group:
        return message
    if message.phone is not None:
        store.remember_lid(tenant_id, message.lid, message.phone)
        return message
    phone = store.phone_for_lid(tenant_id, message.lid)
    return message.model_copy(update={"phone": phone}) if phone else message


def _reply_to(message: ChatMessage) -> str:
    """The recipient of our reply: the phone when known (a ``@lid`` recipient shows badly
    on some clients), else the chat as the gateway named it."""
    if message.phone and not message.is_group:
        return message.phone.lstrip("+")
    return message.chat_id


def _pause(
    deps: ConversationDeps, tenant: Tenant, customer: str, now: datetime, reason: PauseReason
) -> None:
    deps.store.put_pause(
        Pause(
            tenant_id=tenant.tenant_id,
            customer=customer,
            paused_until=now + timedelta(hours=tenant.whatsapp.human_pause_hours),
            reason=reason,
            paused_at=now,
        )
    )


def _send(
    deps: ConversationDeps,
    tenant: Tenant,
    message: ChatMessage,
    replies: list[str] | None,
    *,
    key: str | None = None,
) -> None:
    """Send the replies as one message. The idempotency key is the customer's message (a
    gateway's message ids are unique), so a redelivery never sends the reply twice."""
    body = _reply_body(replies)
    if not body:
        return
    outbound = OutboundText(
        tenant_id=tenant.tenant_id,
        to=_reply_to(message),
        text=body,
        idempotency_key=(key or f"wa:{message.customer}:{message.message_id}")[:200],
    )
    try:
        deps.sender_for(tenant, message.provider).send_text(outbound)
    except WhatsAppSendError as exc:
        # The reply is stored with the session: a redelivery re-sends it. A gateway that is
        # down is retried with the record; a refusal (a wrong token, a number not on
        # WhatsApp) goes to the DLQ at once, to replay once the tenant's setup is fixed.
        if exc.transient:
            raise DependencyUnavailable(f"reply not sent: {exc.reason}") from exc
        raise PermanentFailure("whatsapp_refused", f"reply refused: {exc.reason}") from exc


def _notify_restaurant(
    deps: ConversationDeps, tenant: Tenant, message: ChatMessage, conversation_id: str
) -> None:
    """Tell the restaurant's phone that a customer asked for a person (best effort: the
    conversation is paused either way)."""
    phone = tenant.orders.notification_phone
    if not phone:
        return
    lang = lang_of(_agent_config(deps, tenant.tenant_id).language)
    who = message.sender_name or phone_of(message.phone) or message.chat_id
    try:
        deps.sender_for(tenant, message.provider).send_text(
            OutboundText(
                tenant_id=tenant.tenant_id,
                to=phone,
                text=say(
                    "restaurant_handoff",
                    lang,
                    customer=f"{who} ({_reply_to(message)})",
                    hours=tenant.whatsapp.human_pause_hours,
                ),
                idempotency_key=f"wa-handoff:{conversation_id}:{message.message_id}"[:200],
            )
        )
    except WhatsAppSendError as exc:
        logger.warning("hand-off notification not sent", extra={"reason": exc.reason})
