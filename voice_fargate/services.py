"""The outside world of a call: transcript store (S3), SIP transfer (LiveKit), event bus.

Implementations of the protocols in :mod:`voice_fargate.state`. Clients are built on first
use (``atende_shared.aws`` caches boto3 clients; the LiveKit API client per transfer), so
the worker starts without credentials and tests swap in fakes.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from atende_shared.aws import client
from atende_shared.errors import DependencyUnavailable
from atende_shared.messaging import EventBridgePublisher
from atende_shared.observability import logger
from atende_shared.ordering.tools import NumberAllocator
from atende_shared.settings import LiveKitSettings
from voice_fargate.state import CallServices


def transcript_key(tenant_id: str, call_id: str, started_at: datetime) -> str:
    """``transcripts/<tenant>/<yyyy>/<mm>/<call_id>.json`` (the artifacts bucket layout)."""
    return f"transcripts/{tenant_id}/{started_at:%Y}/{started_at:%m}/{call_id}.json"


class S3TranscriptStore:
    """Writes transcripts as JSON objects to the artifacts bucket."""

    def __init__(self, bucket: str) -> None:
        self._bucket = bucket

    def put_json(self, key: str, body: dict[str, Any]) -> None:
        try:
            client("s3").put_object(
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(body, ensure_ascii=False, default=str).encode("utf-8"),
                ContentType="application/json",
            )
        except (ClientError, BotoCoreError) as exc:
            raise DependencyUnavailable(
                f"transcript upload to {self._bucket} failed: {exc}"
            ) from exc


class LiveKitTransferer:
    """SIP REFER through ``livekit-api`` (``sip.transfer_sip_participant``)."""

    def __init__(self, settings: LiveKitSettings) -> None:
        self._settings = settings

    async def transfer(self, *, room_name: str, participant_identity: str, to_number: str) -> None:
        from livekit import api  # local: the API client is only needed when transferring

        secret = self._settings.livekit_api_secret
        async with api.LiveKitAPI(
            url=self._settings.livekit_url,
            api_key=self._settings.livekit_api_key,
            api_secret=secret.get_secret_value() if secret else None,
        ) as lk:
            await lk.sip.transfer_sip_participant(
                api.TransferSIPParticipantRequest(
                    room_name=room_name,
                    participant_identity=participant_identity,
                    transfer_to=f"tel:{to_number}",
                    play_dialtone=True,
                )
            )


class RecordingTransferer:
    """No SIP leg to transfer (text-mode local call): remember the request and say so."""

    def __init__(self) -> None:
        self.requests: list[dict[str, str]] = []

    async def transfer(self, *, room_name: str, participant_identity: str, to_number: str) -> None:
        self.requests.append({"room": room_name, "to": to_number})
        logger.info("transfer requested (text mode: no SIP leg)", extra={"to": to_number})


def number_allocator(main_table: str) -> NumberAllocator:
    """The kitchen's next number for a tenant (the tenant's atomic counter)."""
    from atende_shared.dal.order_numbers import order_numbers

    numbers = order_numbers(main_table)
    return lambda tenant_id, _order_id: numbers.next_number(tenant_id)


def aws_services(
    *, bus_name: str, bucket: str, livekit: LiveKitSettings, main_table: str | None = None
) -> CallServices:
    """The services a call uses in AWS (or against the local platform's moto endpoint).

    With ``main_table`` the kitchen's order number is allocated at confirmation (the
    tenant's atomic counter), so the caller hears the number the kitchen will use, and
    returning callers are recognised by phone."""
    from atende_shared.dal.customers import customer_store

    return CallServices(
        publisher=EventBridgePublisher(bus_name),
        transcripts=S3TranscriptStore(bucket),
        transferer=LiveKitTransferer(livekit)
        if livekit.livekit_configured
        else RecordingTransferer(),
        allocate_number=number_allocator(main_table) if main_table else None,
        customers=customer_store(main_table) if main_table else None,
    )
