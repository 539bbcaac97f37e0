"""Environment models of the sync functions (validated at cold start)."""

from __future__ import annotations

from pydantic import Field

from atende_shared.settings import (
    ArtifactsBucketSettings,
    CatalogQueueSettings,
    EventBusSettings,
    MainTableSettings,
    ServiceSettings,
)


class SyncTuning(ServiceSettings):
    """Knobs shared by the sync functions; defaults are production values."""

    bling_api_url: str = Field(
        "https://api.bling.com.br/Api/v3", validation_alias="ATENDE_BLING_API_URL"
    )
    bling_token_url: str = Field(
        "https://api.bling.com.br/Api/v3/oauth/token", validation_alias="ATENDE_BLING_TOKEN_URL"
    )
    pluggto_api_url: str = Field("https://api.plugg.to", validation_alias="ATENDE_PLUGGTO_API_URL")
    mass_delete_min: int = Field(25, ge=0, validation_alias="ATENDE_SYNC_MASS_DELETE_MIN")
    mass_delete_pct: float = Field(
        20.0, ge=0, le=100, validation_alias="ATENDE_SYNC_MASS_DELETE_PCT"
    )
    soft_delete_retention_days: int = Field(30, ge=1, validation_alias="ATENDE_SYNC_RETENTION_DAYS")
    #: A run stops reading this long before the Lambda timeout and continues in a new job.
    run_safety_seconds: int = Field(30, ge=5, validation_alias="ATENDE_SYNC_SAFETY_SECONDS")
    http_timeout_seconds: float = Field(20.0, gt=0, validation_alias="ATENDE_SYNC_HTTP_TIMEOUT")


class CatalogWorkerSettings(
    SyncTuning, MainTableSettings, EventBusSettings, ArtifactsBucketSettings, CatalogQueueSettings
):
    """The catalog queue consumer."""


class OrdersSettings(SyncTuning, MainTableSettings):
    """The order write-back consumer."""


#: The push-ingestion body cap; WAF applies the same number at the edge (the ingest routes'
#: ``max_body_bytes`` in the wiring).
INGEST_MAX_BODY_BYTES = 5 * 1024 * 1024


class IngestSettings(
    ServiceSettings, MainTableSettings, ArtifactsBucketSettings, CatalogQueueSettings
):
    """The push-ingestion endpoint."""

    ingest_max_body_bytes: int = Field(
        INGEST_MAX_BODY_BYTES, gt=0, validation_alias="ATENDE_INGEST_MAX_BODY_BYTES"
    )
    ingest_max_records: int = Field(2_000, gt=0, validation_alias="ATENDE_INGEST_MAX_RECORDS")


class SyncAdminSettings(ServiceSettings, MainTableSettings, CatalogQueueSettings):
    """The sync admin API."""


class SchedulerSettings(ServiceSettings, MainTableSettings, CatalogQueueSettings):
    """The scheduled fan-out."""
