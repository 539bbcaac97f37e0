"""Environment models, validated once at cold start and composed from small mixins.

A function declares the settings it needs by combining mixins, e.g.::

    class IngressSettings(ServiceSettings, TablesSettings, IngressQueuesSettings): ...

and reads them through :func:`load_settings`, which validates on first use and caches.
A missing or malformed variable fails the cold start with a message naming it.
"""

from __future__ import annotations

from functools import cache
from typing import Literal, TypeVar

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from atende_shared.errors import ConfigurationError, DependencyUnavailable
from atende_shared.resources import (
    EVENT_BUS_ENV,
    Bucket,
    Queue,
    Table,
    bucket_env,
    queue_url_env,
    table_env,
)

Stage = Literal["local", "dev", "staging", "prod"]


class _Base(BaseSettings):
    model_config = SettingsConfigDict(
        extra="ignore", frozen=True, populate_by_name=True, case_sensitive=True
    )


class ServiceSettings(_Base):
    """Every function: which service it is and where it runs."""

    service_name: str = Field("atende", validation_alias="POWERTOOLS_SERVICE_NAME")
    stage: Stage = Field("local", validation_alias="ATENDE_STAGE")
    aws_region: str = Field("us-east-1", validation_alias="AWS_REGION")


class MainTableSettings(_Base):
    """The main table (tenants, menus, calls, ledger...)."""

    main_table: str = Field(validation_alias=table_env(Table.MAIN), min_length=3)


class IdempotencyTableSettings(_Base):
    """The idempotency/dedupe table."""

    idempotency_table: str = Field(validation_alias=table_env(Table.IDEMPOTENCY), min_length=3)


class TablesSettings(MainTableSettings, IdempotencyTableSettings):
    """Both tables. The CDK app sets a table's variable only on functions whose wiring
    ``Access`` lists that table, so compose only the mixins a function's wiring grants."""


class EventBusSettings(_Base):
    """The custom EventBridge bus domain events are published on."""

    event_bus_name: str = Field(validation_alias=EVENT_BUS_ENV, min_length=1)


class ArtifactsBucketSettings(_Base):
    """The S3 bucket for transcripts, statements and quarantined records."""

    artifacts_bucket: str = Field(validation_alias=bucket_env(Bucket.ARTIFACTS), min_length=3)


def _queue_field(queue: Queue) -> str:
    return Field(validation_alias=queue_url_env(queue), min_length=8)


class IngressQueuesSettings(_Base):
    """Queues webhook ingress routes normalised events to."""

    calls_queue_url: str = _queue_field(Queue.CALLS)
    catalog_queue_url: str = _queue_field(Queue.CATALOG)
    payments_queue_url: str = _queue_field(Queue.PAYMENTS)
    messaging_queue_url: str = _queue_field(Queue.MESSAGING)

    def url_for(self, queue: Queue) -> str:
        """URL of one of the ingress queues."""
        urls = {
            Queue.CALLS: self.calls_queue_url,
            Queue.CATALOG: self.catalog_queue_url,
            Queue.PAYMENTS: self.payments_queue_url,
            Queue.MESSAGING: self.messaging_queue_url,
        }
        try:
            return urls[queue]
        except KeyError as exc:
            raise ConfigurationError(f"queue {queue.value!r} is not an ingress queue") from exc


class ProvisioningQueueSettings(_Base):
    """The queue the admin API hands SIP provisioning work to."""

    provisioning_queue_url: str = _queue_field(Queue.PROVISIONING)


class CatalogQueueSettings(_Base):
    """The queue scheduled sync jobs are fanned out on."""

    catalog_queue_url: str = _queue_field(Queue.CATALOG)


class LiveKitSettings(_Base):
    """LiveKit server credentials; absent locally, where a stand-in is used.

    The API secret comes either from ``LIVEKIT_API_SECRET`` (local, containers that get
    it injected) or, in Lambda, from the Secrets Manager secret named by
    ``LIVEKIT_API_SECRET_NAME`` (JSON with ``api_secret``), read when first needed and
    cached, so the secret never sits in a function's configuration.
    """

    livekit_url: str | None = Field(None, validation_alias="LIVEKIT_URL")
    livekit_api_key: str | None = Field(None, validation_alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(None, validation_alias="LIVEKIT_API_SECRET")
    livekit_api_secret_name: str | None = Field(None, validation_alias="LIVEKIT_API_SECRET_NAME")
    voice_agent_name: str = Field("atende-voice-agent", validation_alias="ATENDE_AGENT_NAME")

    @property
    def livekit_configured(self) -> bool:
        """True when a URL, a key and a secret (or where to read it) are all set."""
        has_secret = self.livekit_api_secret is not None or bool(self.livekit_api_secret_name)
        return bool(self.livekit_url and self.livekit_api_key and has_secret)

    def resolved_api_secret(self) -> str | None:
        """The API secret, from the environment or (cached 5 min) from Secrets Manager."""
        if self.livekit_api_secret is not None:
            return self.livekit_api_secret.get_secret_value()
        if not self.livekit_api_secret_name:
            return None
        from aws_lambda_powertools.utilities import parameters  # only where it is needed

        try:
            value = parameters.get_secret(
                self.livekit_api_secret_name, transform="json", max_age=300
            )
        except parameters.exceptions.GetParameterError as exc:
            raise DependencyUnavailable(f"reading the LiveKit secret failed: {exc}") from exc
        secret = value.get("api_secret") if isinstance(value, dict) else None
        if not isinstance(secret, str) or not secret:
            raise ConfigurationError("the LiveKit secret has no 'api_secret' field")
        return secret


class WebhookLimitsSettings(_Base):
    """Limits applied at the webhook edge. The body cap matches the WAF rule in front of
    the API in AWS (64 KiB, all WAF can inspect), so local and deployed answers agree."""

    webhook_max_body_bytes: int = Field(
        64 * 1024, validation_alias="ATENDE_WEBHOOK_MAX_BODY_BYTES", gt=0
    )
    webhook_tolerance_seconds: int = Field(
        300, validation_alias="ATENDE_WEBHOOK_TOLERANCE_SECONDS", gt=0
    )
    dedupe_ttl_seconds: int = Field(
        7 * 24 * 3600, validation_alias="ATENDE_DEDUPE_TTL_SECONDS", gt=0
    )


S = TypeVar("S", bound=BaseSettings)


@cache
def load_settings(model: type[S]) -> S:
    """Validate ``model`` against the environment once per process and cache it.

    Raises :class:`ConfigurationError` listing every missing or invalid variable, so a
    misconfigured function fails its cold start loudly instead of misbehaving later.
    """
    try:
        return model()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'/'.join(str(p) for p in err['loc']) or '?'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid configuration for {model.__name__}: {problems}") from exc


def reset_settings_cache() -> None:
    """Forget validated settings (tests and the local platform change the environment)."""
    load_settings.cache_clear()
