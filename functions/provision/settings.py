"""Environment models of the provision functions, composed from the shared mixins."""

from __future__ import annotations

from pydantic import Field

from atende_shared.settings import (
    EventBusSettings,
    LiveKitSettings,
    MainTableSettings,
    ProvisioningQueueSettings,
    ServiceSettings,
)


class AdminApiSettings(
    ServiceSettings,
    MainTableSettings,
    EventBusSettings,
    ProvisioningQueueSettings,
    LiveKitSettings,
):
    """The admin API: tenants, agent, menu, numbers, test-call tokens."""

    # API Gateway accepts 10 MB; a 5,000-item menu is ~2 MB of JSON, so 4 MiB is generous
    # while still refusing accidental uploads before pydantic spends CPU on them.
    admin_max_body_bytes: int = Field(
        4 * 1024 * 1024, validation_alias="ATENDE_ADMIN_MAX_BODY_BYTES", gt=0
    )
    test_call_token_ttl_seconds: int = Field(
        600, validation_alias="ATENDE_TEST_CALL_TOKEN_TTL_SECONDS", ge=60, le=3_600
    )
    #: The restaurant users' Cognito pool (Access.tenant_users); unset: invitations 503.
    tenant_user_pool_id: str | None = Field(None, validation_alias="ATENDE_TENANT_USER_POOL_ID")


class SipSettings(ServiceSettings, MainTableSettings, LiveKitSettings):
    """What the SIP worker and the reconciler share: LiveKit, the lease, the retries."""

    # Longer than the worker's 90 s timeout, so a live holder never loses its lease.
    lease_seconds: int = Field(120, validation_alias="ATENDE_SIP_LEASE_SECONDS", ge=5, le=900)
    lease_wait_seconds: float = Field(
        10.0, validation_alias="ATENDE_SIP_LEASE_WAIT_SECONDS", ge=0, le=60
    )
    retry_attempts: int = Field(4, validation_alias="ATENDE_SIP_RETRY_ATTEMPTS", ge=1, le=10)
    retry_base_seconds: float = Field(
        0.2, validation_alias="ATENDE_SIP_RETRY_BASE_SECONDS", ge=0, le=10
    )
    breaker_threshold: int = Field(5, validation_alias="ATENDE_SIP_BREAKER_THRESHOLD", ge=1)
    breaker_reset_seconds: float = Field(
        30.0, validation_alias="ATENDE_SIP_BREAKER_RESET_SECONDS", gt=0
    )
    livekit_timeout_seconds: float = Field(
        10.0, validation_alias="ATENDE_LIVEKIT_TIMEOUT_SECONDS", gt=0, le=60
    )


class WorkerSettings(SipSettings):
    """The provisioning queue consumer."""


class ReconcileSettings(SipSettings):
    """The scheduled reconciler."""

    #: Orphans (Atende-tagged LiveKit resources unknown to DynamoDB) are only reported
    #: unless this is on: deleting a trunk by mistake takes a live number off the air.
    reconcile_delete_orphans: bool = Field(
        False, validation_alias="ATENDE_RECONCILE_DELETE_ORPHANS"
    )
