"""ECS task scale-in protection while calls are live.

SIGTERM drain (``AgentServer(drain_timeout=...)``) keeps a stopping worker alive for its
live calls, but Fargate allows at most 120 s between SIGTERM and SIGKILL, and a call may
last 15 minutes. So each call, when it starts, asks the ECS agent to protect the task for
the longest the call can last (``max_call_seconds`` + a margin): ECS then never picks this
task for scale-in, and a deployment waits for it, until the protection expires. Calls run in
separate job processes with no shared counter, so protection is only ever *extended*, never
switched off: it lapses on its own a few minutes after the last call could have ended.

Outside ECS (no ``ECS_AGENT_URI``) this is a no-op. A failure is logged, never raised: a
call must not fail because the ECS agent did not answer.
"""

from __future__ import annotations

import math

import httpx

from atende_shared.observability import logger

MARGIN_MINUTES = 2
MAX_MINUTES = 2_880  # the ECS API's upper bound (48 h)


def protection_minutes(max_call_seconds: int) -> int:
    return min(MAX_MINUTES, math.ceil(max_call_seconds / 60) + MARGIN_MINUTES)


async def protect_task(
    ecs_agent_uri: str | None,
    *,
    max_call_seconds: int,
    transport: httpx.AsyncBaseTransport | None = None,
) -> bool:
    """PUT ``$ECS_AGENT_URI/task-protection/v1/state``; True when ECS accepted it."""
    if not ecs_agent_uri:
        return False
    payload = {"ProtectionEnabled": True, "ExpiresInMinutes": protection_minutes(max_call_seconds)}
    try:
        async with httpx.AsyncClient(timeout=2.0, transport=transport) as client:
            answer = await client.put(f"{ecs_agent_uri}/task-protection/v1/state", json=payload)
    except httpx.HTTPError as exc:
        logger.warning("task protection request failed", extra={"error": str(exc)})
        return False
    if answer.status_code != 200 or "failure" in answer.text.lower():
        logger.warning(
            "task protection refused",
            extra={"status": answer.status_code, "body": answer.text[:300]},
        )
        return False
    return True
