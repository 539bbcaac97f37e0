"""The SIP API servers the contract tests run against: the fake, and the real livekit-server.

Both expose what the tests read back: ``url``, ``trunks()``, ``rules()`` and ``reset()``.
The real one answers through its own Twirp API (``livekit-api``); where the two disagree,
the fake is wrong (issue 14).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from livekit import api
from livekit.protocol import sip as proto

T = TypeVar("T")


class RealSipServer:
    """A real livekit-server's SIP API, with the fake's read-back helpers."""

    kind = "real"

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        self.url = url
        self.api_key = api_key
        self.api_secret = api_secret

    def _run(self, work: Callable[[api.LiveKitAPI], Awaitable[T]]) -> T:
        async def go() -> T:
            client = api.LiveKitAPI(self.url, self.api_key, self.api_secret, failover=False)
            try:
                return await work(client)
            finally:
                await client.aclose()

        return asyncio.run(go())

    def trunks(self) -> list[proto.SIPInboundTrunkInfo]:
        answer = self._run(lambda c: c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest()))
        return list(answer.items)

    def rules(self) -> list[proto.SIPDispatchRuleInfo]:
        answer = self._run(lambda c: c.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest()))
        return list(answer.items)

    def reset(self) -> None:
        """Delete every rule and trunk (a clean server for the next test)."""

        async def wipe(c: api.LiveKitAPI) -> None:
            rules = await c.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
            for rule in rules.items:
                await c.sip.delete_dispatch_rule(
                    api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
                )
            trunks = await c.sip.list_inbound_trunk(api.ListSIPInboundTrunkRequest())
            for trunk in trunks.items:
                await c.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))

        self._run(wipe)
