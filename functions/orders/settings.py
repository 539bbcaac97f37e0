"""Environment models of the orders functions, composed from the shared mixins."""

from __future__ import annotations

from pydantic import Field

from atende_shared.resources import Queue, queue_url_env
from atende_shared.settings import (
    ArtifactsBucketSettings,
    EventBusSettings,
    MainTableSettings,
    ServiceSettings,
)


class OrdersTunables(ServiceSettings):
    """Retry policy of deliveries and small caches."""

    #: First retry delay of a failed delivery; doubled per attempt up to the max delay.
    retry_base_seconds: int = Field(
        30, validation_alias="ATENDE_ORDERS_RETRY_BASE_SECONDS", ge=1, le=900
    )
    retry_max_delay_seconds: int = Field(
        900, validation_alias="ATENDE_ORDERS_RETRY_MAX_DELAY_SECONDS", ge=1, le=900
    )
    #: Attempts before a delivery is dead-lettered (15 at the defaults: about 2.5 hours).
    retry_max_attempts: int = Field(
        15, validation_alias="ATENDE_ORDERS_RETRY_MAX_ATTEMPTS", ge=1, le=100
    )
    webhook_timeout_seconds: float = Field(
        10.0, validation_alias="ATENDE_ORDERS_WEBHOOK_TIMEOUT_SECONDS", gt=0, le=60
    )
    tenant_cache_seconds: float = Field(
        30.0, validation_alias="ATENDE_ORDERS_TENANT_CACHE_SECONDS", ge=0, le=3_600
    )
    presign_seconds: int = Field(
        300, validation_alias="ATENDE_ORDERS_PRESIGN_SECONDS", ge=30, le=3_600
    )


class OrdersSettings(OrdersTunables, MainTableSettings, EventBusSettings):
    """Every orders function: the main table, the bus and the notifications queue."""

    notifications_queue_url: str = Field(
        validation_alias=queue_url_env(Queue.NOTIFICATIONS), min_length=8
    )


class OrdersApiSettings(OrdersSettings, ArtifactsBucketSettings):
    """The admin API also reads transcripts from the artifacts bucket."""
