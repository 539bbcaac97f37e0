"""LiveKit's SIP API behind a small async protocol, with its errors made domain errors.

4xx answers become :class:`SipRejected` (never worth retrying); 5xx, timeouts and
connection failures become :class:`SipUnavailable`. The same code talks to a real
LiveKit or to ``atende_local.fake_livekit`` depending on ``LIVEKIT_URL``.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import aiohttp
from livekit import api
from livekit.protocol.sip import (
    SIPDispatchRuleInfo,
    SIPInboundTrunkInfo,
)

from functions.provision.models.errors import SipRejected, SipUnavailable


class SipApi(Protocol):
    async def list_trunks(
        self, *, numbers: list[str] | None = None, trunk_ids: list[str] | None = None
    ) -> list[SIPInboundTrunkInfo]: ...
    async def create_trunk(self, trunk: SIPInboundTrunkInfo) -> SIPInboundTrunkInfo: ...
    async def set_trunk_numbers(self, trunk_id: str, numbers: list[str]) -> SIPInboundTrunkInfo: ...
    async def delete_trunk(self, trunk_id: str) -> None: ...
    async def list_rules(
        self, *, trunk_ids: list[str] | None = None, rule_ids: list[str] | None = None
    ) -> list[SIPDispatchRuleInfo]: ...
    async def create_rule(self, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo: ...
    async def replace_rule(
        self, rule_id: str, rule: SIPDispatchRuleInfo
    ) -> SIPDispatchRuleInfo: ...
    async def delete_rule(self, rule_id: str) -> bool:
        """Delete a rule; False if LiveKit did not know it (``not_found``)."""
        ...


def _translate(operation: str, exc: BaseException) -> Exception:
    if isinstance(exc, api.ServerError):
        if exc.status < 500 and exc.status != 429:
            return SipRejected(f"LiveKit refused {operation}: {exc.message}", twirp_code=exc.code)
        return SipUnavailable(f"LiveKit failed {operation}: {exc.status} {exc.message}")
    return SipUnavailable(f"LiveKit unreachable for {operation}: {type(exc).__name__} {exc}")


_TRANSPORT = (aiohttp.ClientError, asyncio.TimeoutError, api.ServerError)


class LiveKitSip:
    """:class:`SipApi` over ``livekit.api.LiveKitAPI(url, key, secret).sip``.

    Build it inside the event loop that uses it (aiohttp sessions are loop-bound) and
    ``await close()`` when done.
    """

    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout_seconds: float) -> None:
        # failover=False: our own retry/breaker policy decides, not the SDK's region hopping.
        self._api = api.LiveKitAPI(
            url,
            api_key,
            api_secret,
            timeout=aiohttp.ClientTimeout(total=timeout_seconds),
            failover=False,
        )

    async def close(self) -> None:
        await self._api.aclose()

    async def list_trunks(
        self, *, numbers: list[str] | None = None, trunk_ids: list[str] | None = None
    ) -> list[SIPInboundTrunkInfo]:
        request = api.ListSIPInboundTrunkRequest(numbers=numbers or [], trunk_ids=trunk_ids or [])
        try:
            answer = await self._api.sip.list_inbound_trunk(request)
        except _TRANSPORT as exc:
            raise _translate("ListSIPInboundTrunk", exc) from exc
        return list(answer.items)

    async def create_trunk(self, trunk: SIPInboundTrunkInfo) -> SIPInboundTrunkInfo:
        try:
            return await self._api.sip.create_inbound_trunk(
                api.CreateSIPInboundTrunkRequest(trunk=trunk)
            )
        except _TRANSPORT as exc:
            raise _translate("CreateSIPInboundTrunk", exc) from exc

    async def set_trunk_numbers(self, trunk_id: str, numbers: list[str]) -> SIPInboundTrunkInfo:
        try:
            return await self._api.sip.update_inbound_trunk_fields(trunk_id, numbers=numbers)
        except _TRANSPORT as exc:
            raise _translate("UpdateSIPInboundTrunk", exc) from exc

    async def delete_trunk(self, trunk_id: str) -> None:
        try:
            await self._api.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id))
        except _TRANSPORT as exc:
            raise _translate("DeleteSIPTrunk", exc) from exc

    async def list_rules(
        self, *, trunk_ids: list[str] | None = None, rule_ids: list[str] | None = None
    ) -> list[SIPDispatchRuleInfo]:
        request = api.ListSIPDispatchRuleRequest(
            trunk_ids=trunk_ids or [], dispatch_rule_ids=rule_ids or []
        )
        try:
            answer = await self._api.sip.list_dispatch_rule(request)
        except _TRANSPORT as exc:
            raise _translate("ListSIPDispatchRule", exc) from exc
        return list(answer.items)

    async def create_rule(self, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        try:
            return await self._api.sip.create_dispatch_rule(
                api.CreateSIPDispatchRuleRequest(dispatch_rule=rule)
            )
        except _TRANSPORT as exc:
            raise _translate("CreateSIPDispatchRule", exc) from exc

    async def replace_rule(self, rule_id: str, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        try:
            return await self._api.sip.update_dispatch_rule(rule_id, rule)
        except _TRANSPORT as exc:
            raise _translate("UpdateSIPDispatchRule", exc) from exc

    async def delete_rule(self, rule_id: str) -> bool:
        try:
            await self._api.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)
            )
        except _TRANSPORT as exc:
            error = _translate("DeleteSIPDispatchRule", exc)
            if isinstance(error, SipRejected) and error.not_found:
                return False
            raise error from exc
        return True
