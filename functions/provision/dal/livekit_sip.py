"""LiveKit's SIP API behind a small async protocol, with its errors made domain errors.

4xx answers become :class:`SipRejected` (never worth retrying); 5xx, timeouts and
connection failures become :class:`SipUnavailable`. The same code talks to a real
LiveKit or to ``atende_local.fake_livekit`` depending on ``LIVEKIT_URL``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import aiohttp
from livekit import api
from livekit.protocol.models import Pagination
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
        self, *, trunk_ids: list[str] | None = None
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


T = TypeVar("T")
#: Items per list page (LiveKit pages by id: ``after_id`` + ``limit``).
PAGE_SIZE = 500

_TRANSPORT = (aiohttp.ClientError, asyncio.TimeoutError, api.ServerError)


class LiveKitSip:
    """:class:`SipApi` over ``livekit.api.LiveKitAPI(url, key, secret).sip``.

    Build it inside the event loop that uses it (aiohttp sessions are loop-bound) and
    ``await close()`` when done.
    """

    def __init__(self, url: str, api_key: str, api_secret: str, *, timeout_seconds: float) -> None:
        # failover=False: our own retry/breaker policy decides, not the SDK's region hopping.
        self._api = api.LiveKitAPI(url, api_key, api_secret, failover=False)
        # livekit-api 1.2.2 passes ``timeout=None`` per request, which aiohttp reads as "no
        # timeout" (the session's ClientTimeout is ignored), so every call is bounded here.
        self._timeout = timeout_seconds

    async def close(self) -> None:
        await self._api.aclose()

    async def _bounded(self, operation: str, call: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(call, self._timeout)
        except _TRANSPORT as exc:
            raise _translate(operation, exc) from exc

    async def _list_all(
        self,
        operation: str,
        page: Callable[[str], Awaitable[Any]],
        id_of: Callable[[Any], str],
    ) -> list[Any]:
        """Follow LiveKit's id-based pagination so a full listing is really full."""
        items: list[Any] = []
        after = ""
        while True:
            answer = await self._bounded(operation, page(after))
            fresh = [i for i in answer.items if id_of(i) > after]
            items += fresh
            # A short page ends it; so does a page that did not advance (paging ignored).
            if len(answer.items) < PAGE_SIZE or not fresh:
                return items
            after = max(id_of(i) for i in fresh)

    async def list_trunks(
        self, *, numbers: list[str] | None = None, trunk_ids: list[str] | None = None
    ) -> list[SIPInboundTrunkInfo]:
        def page(after: str) -> Awaitable[Any]:
            return self._api.sip.list_inbound_trunk(
                api.ListSIPInboundTrunkRequest(
                    numbers=numbers or [],
                    trunk_ids=trunk_ids or [],
                    page=Pagination(after_id=after, limit=PAGE_SIZE),
                )
            )

        return await self._list_all("ListSIPInboundTrunk", page, lambda t: t.sip_trunk_id)

    async def create_trunk(self, trunk: SIPInboundTrunkInfo) -> SIPInboundTrunkInfo:
        request = api.CreateSIPInboundTrunkRequest(trunk=trunk)
        return await self._bounded(
            "CreateSIPInboundTrunk", self._api.sip.create_inbound_trunk(request)
        )

    async def set_trunk_numbers(self, trunk_id: str, numbers: list[str]) -> SIPInboundTrunkInfo:
        return await self._bounded(
            "UpdateSIPInboundTrunk",
            self._api.sip.update_inbound_trunk_fields(trunk_id, numbers=numbers),
        )

    async def delete_trunk(self, trunk_id: str) -> None:
        request = api.DeleteSIPTrunkRequest(sip_trunk_id=trunk_id)
        await self._bounded("DeleteSIPTrunk", self._api.sip.delete_trunk(request))

    async def list_rules(self, *, trunk_ids: list[str] | None = None) -> list[SIPDispatchRuleInfo]:
        def page(after: str) -> Awaitable[Any]:
            return self._api.sip.list_dispatch_rule(
                api.ListSIPDispatchRuleRequest(
                    trunk_ids=trunk_ids or [],
                    page=Pagination(after_id=after, limit=PAGE_SIZE),
                )
            )

        return await self._list_all("ListSIPDispatchRule", page, lambda r: r.sip_dispatch_rule_id)

    async def create_rule(self, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        request = api.CreateSIPDispatchRuleRequest(dispatch_rule=rule)
        return await self._bounded(
            "CreateSIPDispatchRule", self._api.sip.create_dispatch_rule(request)
        )

    async def replace_rule(self, rule_id: str, rule: SIPDispatchRuleInfo) -> SIPDispatchRuleInfo:
        return await self._bounded(
            "UpdateSIPDispatchRule", self._api.sip.update_dispatch_rule(rule_id, rule)
        )

    async def delete_rule(self, rule_id: str) -> bool:
        request = api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)
        try:
            await self._bounded(
                "DeleteSIPDispatchRule", self._api.sip.delete_dispatch_rule(request)
            )
        except SipRejected as exc:
            if exc.not_found:
                return False
            raise
        return True
