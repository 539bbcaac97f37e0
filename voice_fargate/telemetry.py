"""Per-turn latency: logged, and written as CloudWatch Embedded Metric Format lines.

The framework stamps each conversation item with its metrics (``ChatMessage.metrics``):
the caller's turns carry ``transcription_delay`` and ``end_of_turn_delay``; the agent's
carry ``e2e_latency`` (end of the caller's speech → first audio out), ``llm_node_ttft``
and ``tts_node_ttfb``. :func:`attach_latency_metrics` listens for new items and writes
one EMF record per item (dimensions: service, tenant), which CloudWatch turns into
metrics straight from the container's log stream — no agent, no API call on the hot path.
Powertools' ``Metrics`` is built for one flush per Lambda invocation; a long-lived worker
needs one record per turn, hence this small writer.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from livekit.agents import AgentSession, ConversationItemAddedEvent
from livekit.agents.llm import ChatMessage

from atende_shared.observability import logger

USER_METRICS = ("transcription_delay", "end_of_turn_delay", "on_user_turn_completed_delay")
AGENT_METRICS = ("e2e_latency", "llm_node_ttft", "tts_node_ttfb")


class EmfWriter:
    """Writes EMF JSON lines (one per call to :meth:`put`) to a stream (stdout)."""

    def __init__(
        self,
        namespace: str,
        *,
        service: str,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._namespace = namespace
        self._service = service
        self._stream = stream
        self._clock = clock

    def put(
        self, values: Mapping[str, float], *, tenant_id: str, unit: str = "Seconds"
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(self._clock() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [["service"], ["service", "tenant_id"]],
                        "Metrics": [{"Name": name, "Unit": unit} for name in values],
                    }
                ],
            },
            "service": self._service,
            "tenant_id": tenant_id,
            **{name: round(value, 4) for name, value in values.items()},
        }
        stream = self._stream or sys.stdout
        stream.write(json.dumps(record) + "\n")
        stream.flush()
        return record


def turn_metrics(message: ChatMessage) -> dict[str, float]:
    """The latency figures of one conversation item (empty when it has none)."""
    wanted = USER_METRICS if message.role == "user" else AGENT_METRICS
    raw = message.metrics or {}
    return {
        name: float(raw[name])  # type: ignore[literal-required]
        for name in wanted
        if isinstance(raw.get(name), int | float)
    }


def attach_latency_metrics(
    session: AgentSession[Any], *, tenant_id: str, call_id: str, emf: EmfWriter
) -> None:
    """Log and emit every turn's latency while the session runs."""

    def on_item(event: ConversationItemAddedEvent) -> None:
        item = event.item
        if not isinstance(item, ChatMessage):
            return
        values = turn_metrics(item)
        if not values:
            return
        logger.info("turn latency", extra={"call_id": call_id, "role": item.role, **values})
        emf.put(values, tenant_id=tenant_id)

    session.on("conversation_item_added", on_item)
