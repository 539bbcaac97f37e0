"""The ingress function's environment, composed from the shared mixins."""

from __future__ import annotations

from pydantic import Field

from atende_shared.settings import (
    IngressQueuesSettings,
    LiveKitSettings,
    ServiceSettings,
    TablesSettings,
    WebhookLimitsSettings,
)


class IngressSettings(
    ServiceSettings, TablesSettings, IngressQueuesSettings, WebhookLimitsSettings, LiveKitSettings
):
    """Everything ``webhooks-ingress`` reads from its environment, validated at cold start."""

    #: How long a delivery's dedupe claim blocks a concurrent duplicate. Longer than the
    #: function timeout (10 s), so a slow first attempt is never overlapped; short enough that
    #: a claim left by a crashed invocation frees itself before the sender's next retry.
    dedupe_lease_seconds: int = Field(
        30, validation_alias="ATENDE_DEDUPE_LEASE_SECONDS", gt=0, le=900
    )
    #: How old an authentic Asaas event may be: Asaas keeps events 14 days and replays them
    #: in order when a paused queue resumes, so the window is 14 days and a day of margin.
    asaas_replay_window_seconds: int = Field(
        15 * 86_400, validation_alias="ATENDE_ASAAS_REPLAY_WINDOW_SECONDS", gt=0
    )
    #: How old an authentic Bling event may be: Bling retries refused deliveries for days.
    bling_replay_window_seconds: int = Field(
        7 * 86_400, validation_alias="ATENDE_BLING_REPLAY_WINDOW_SECONDS", gt=0
    )

    def replay_window_seconds(self, provider: str) -> int | None:
        """The oldest body date accepted from ``provider`` (None: the sender's body carries
        no date we check). The clock only bounds how far back; replays inside the window are
        caught by the event-id dedupe, whose record lives at least as long (below)."""
        return {
            "asaas": self.asaas_replay_window_seconds,
            "bling": self.bling_replay_window_seconds,
        }.get(provider)

    def dedupe_ttl_for(self, provider: str) -> int:
        """How long a provider's dedupe record lives: the dedupe TTL, or longer when the
        provider's replay window is longer, so every accepted replay is a known duplicate."""
        window = self.replay_window_seconds(provider) or 0
        return max(self.dedupe_ttl_seconds, window + self.webhook_tolerance_seconds)
