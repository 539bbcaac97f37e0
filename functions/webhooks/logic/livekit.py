"""LiveKit: ``Authorization`` is a raw HS256 JWT (issuer = API key) whose ``sha256`` claim
is the base64 SHA-256 of the raw body; ``livekit-api``'s ``WebhookReceiver`` verifies both.

The tenant is read from the room name (``atd_<tenant>_...``); events of rooms Atende did not
name are acknowledged and dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

from atende_shared.errors import MalformedRequest, ValidationFailed
from atende_shared.resources import Queue
from atende_shared.rooms import tenant_from_room
from functions.webhooks.logic.common import AdapterContext, accepted, parse_json, validate
from functions.webhooks.logic.delivery import Delivery, Ignored, Normalised
from functions.webhooks.logic.errors import AuthFailure
from functions.webhooks.models.livekit import LiveKitWebhook

if TYPE_CHECKING:
    from livekit.api import WebhookReceiver

#: TokenVerifier's default leeway for exp/nbf, which we also allow on the lifetime check.
_LEEWAY = timedelta(minutes=1)


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
        receiver.receive(text, token)
    except ParseError as exc:  # signature and body hash were good: the content is wrong
        parse_json(delivery.body)  # 400 when it is not JSON at all
        raise ValidationFailed(f"body is not a LiveKit WebhookEvent: {exc}") from exc
    except RecursionError as exc:
        raise MalformedRequest("request body is nested too deeply") from exc
    except Exception as exc:  # the receiver raises bare Exception and every jwt error
        raise AuthFailure(_reason(exc), f"{type(exc).__name__}: {exc}") from exc
    _check_lifetime(token, context)

    data = parse_json(delivery.body)
    event = validate(LiveKitWebhook, data, what="LiveKit webhook")
    room_name = event.room.name if event.room else ""
    tenant = tenant_from_room(room_name)
    if tenant is None:
        return Ignored(f"room {room_name!r} of event {event.event} was not named by Atende")
    return accepted(
        delivery,
        context,
        Queue.CALLS,
        tenant_id=tenant,
        event_id=event.id,
        type=event.event,
        occurred_at=event.created_at,
        payload=data,
    )
