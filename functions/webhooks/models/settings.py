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
