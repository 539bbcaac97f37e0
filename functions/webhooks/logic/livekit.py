"""LiveKit: ``Authorization`` is a raw HS256 JWT (issuer = API key) whose ``sha256`` claim
is the base64 SHA-256 of the raw body; ``livekit-api``'s ``WebhookReceiver`` verifies both.

The event is the protobuf ``WebhookEvent`` the receiver parsed, turned into the shared
typed :class:`~atende_shared.models.livekit.LiveKitEvent`; its JSON is what billing reads.
The tenant is read from the room name (``atd_<tenant>_...``); events of rooms Atende did not
name are acknowledged and dropped.

Batched deliveries (``{"batched": true, "events": [...]}``, one signature over the whole
body) are accepted too: each event is normalised, de-duplicated and enqueued on its own.
livekit-server and livekit/protocol as checked (``webhook/resource_url_notifier.go``
``send``: one ``protojson.Marshal(event)`` per POST) never batch; the shape is supported
because the lead observed it from a sender and it costs nothing to read.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from atende_shared.errors import MalformedRequest, ValidationFailed
from atende_shared.models.livekit import LiveKitEvent
from atende_shared.resources import Queue
from atende_shared.rooms import tenant_from_room
from functions.webhooks.logic.common import AdapterContext, accepted, parse_json
from functions.webhooks.logic.delivery import Accepted, Batch, Delivery, Ignored, Normalised
from functions.webhooks.logic.errors import AuthFailure

if TYPE_CHECKING:
    from livekit.api import WebhookReceiver
    from livekit.protocol.webhook import WebhookEvent

#: TokenVerifier's default leeway for exp/nbf, which we also allow on the lifetime check.
_LEEWAY = timedelta(minutes=1)
#: The most events one batched delivery may carry (a bigger batch is refused with 422).
MAX_BATCH = 100


@cache
def _receiver(api_key: str, api_secret: str) -> WebhookReceiver:
    # Imported on first use: livekit-api pulls in protobuf and aiohttp, which the other
    # providers' cold starts should not pay for.
    from livekit.api import TokenVerifier, WebhookReceiver

    return WebhookReceiver(TokenVerifier(api_key, api_secret, leeway=_LEEWAY))


def _reason(exc: Exception) -> str:
    import jwt

    kinds: tuple[tuple[type[Exception], str], ...] = (
        (jwt.ExpiredSignatureError, "expired"),
        (jwt.ImmatureSignatureError, "future"),
        (jwt.InvalidIssuerError, "wrong_issuer"),
        (jwt.InvalidSignatureError, "bad_signature"),
        (jwt.MissingRequiredClaimError, "missing_claim"),
        (jwt.DecodeError, "malformed_token"),
        (jwt.InvalidTokenError, "invalid_token"),
    )
    for kind, reason in kinds:
        if isinstance(exc, kind):
            return reason
    text = str(exc)
    if "hash mismatch" in text:
        return "body_hash_mismatch"
    if "sha256" in text:
        return "missing_body_hash"
    return "invalid_token"


def _check_lifetime(token: str, context: AdapterContext) -> None:
    """LiveKit signs webhooks for five minutes; a token valid for longer was not minted for
    one delivery (or was minted with a clock in the future), so it is refused."""
    import jwt

    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    expires = datetime.fromtimestamp(float(claims["exp"]), tz=UTC)
    horizon = context.now + timedelta(seconds=context.settings.webhook_tolerance_seconds) + _LEEWAY
    if expires > horizon:
        raise AuthFailure("future", f"token valid until {expires.isoformat()}, past {horizon}")


def accept(delivery: Delivery, context: AdapterContext) -> Normalised:
    settings = context.settings
    api_secret = settings.resolved_api_secret()
    if not settings.livekit_api_key or api_secret is None:
        raise AuthFailure("not_configured", "LIVEKIT_API_KEY/LIVEKIT_API_SECRET are not set")
    token = delivery.header("authorization")
    if not token:
        raise AuthFailure("missing_header", "no Authorization header")
    token = token.removeprefix("Bearer ").strip()
    try:
        # The receiver hashes body.encode(): a strict UTF-8 round trip is byte-exact.
        text = delivery.body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AuthFailure("bad_body", "body is not UTF-8, LiveKit cannot have signed it") from exc

    from google.protobuf.json_format import ParseError

    receiver = _receiver(settings.livekit_api_key, api_secret)
    try:
        proto = receiver.receive(text, token)
    except ParseError as exc:  # signature and body hash were good: the content is wrong
        parse_json(delivery.body)  # 400 when it is not JSON at all
        raise ValidationFailed(f"body is not a LiveKit WebhookEvent: {exc}") from exc
    except RecursionError as exc:
        raise MalformedRequest("request body is nested too deeply") from exc
    except Exception as exc:  # the receiver raises bare Exception and every jwt error
        raise AuthFailure(_reason(exc), f"{type(exc).__name__}: {exc}") from exc
    _check_lifetime(token, context)

    batch = _batched_events(delivery)
    if batch is None:
        return _one(delivery, context, proto)
    return Batch(items=tuple(_one(delivery, context, item) for item in batch))


def _batched_events(delivery: Delivery) -> list[WebhookEvent] | None:
    """The events of a batched delivery, or None for a single event."""
    data = parse_json(delivery.body)
    if not isinstance(data, dict) or "events" not in data or data.get("event"):
        return None
    items = data["events"]
    if not isinstance(items, list) or not items:
        raise ValidationFailed("a batched LiveKit delivery needs a non-empty events list")
    if len(items) > MAX_BATCH:
        raise ValidationFailed(f"a batched LiveKit delivery carries at most {MAX_BATCH} events")
    from google.protobuf.json_format import ParseDict, ParseError
    from livekit.protocol.webhook import WebhookEvent

    events: list[WebhookEvent] = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationFailed(f"events[{index}] is not an object")
        try:
            events.append(ParseDict(item, WebhookEvent(), ignore_unknown_fields=True))
        except (ParseError, RecursionError) as exc:
            raise ValidationFailed(f"events[{index}] is not a LiveKit WebhookEvent") from exc
    return events


def _one(delivery: Delivery, context: AdapterContext, proto: WebhookEvent) -> Accepted | Ignored:
    try:
        event = LiveKitEvent.from_proto(proto)
    except ValidationError as exc:
        fields = [
            {"field": ".".join(str(p) for p in err["loc"]) or "(body)", "problem": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)[:20]
        ]
        raise ValidationFailed(
            "payload does not match the LiveKit webhook schema", details={"fields": fields}
        ) from exc
    tenant = tenant_from_room(event.room_name)
    if tenant is None:
        return Ignored(f"room {event.room_name!r} of event {event.event} was not named by Atende")
    return accepted(
        delivery,
        context,
        Queue.CALLS,
        tenant_id=tenant,
        event_id=event.id,
        type=event.event,
        occurred_at=event.created_at,
        payload=event.model_dump(mode="json"),
    )
