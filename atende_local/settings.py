"""Settings of the local platform and of the admin CLI (validated once, like a function's)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_PORT = 8000
#: LiveKit's own dev-mode key (``livekit-server --dev``); the secret is generated per run.
DEV_LIVEKIT_API_KEY = "devkey"


class LocalSettings(BaseSettings):
    """What ``atende local run`` and the CLI read from the environment."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True, case_sensitive=True)

    host: str = Field("127.0.0.1", validation_alias="ATENDE_HOST")
    port: int = Field(DEFAULT_PORT, ge=0, le=65_535, validation_alias="ATENDE_PORT")
    admin_token: SecretStr | None = Field(None, validation_alias="ATENDE_ADMIN_TOKEN")
    state_dir: Path = Field(Path(".atende"), validation_alias="ATENDE_STATE_DIR")
    url: str | None = Field(None, validation_alias="ATENDE_URL")
    resource_prefix: str = Field("atende-local", validation_alias="ATENDE_RESOURCE_PREFIX")
    #: Seconds a local pump waits on an empty queue per receive (short: quick shutdown).
    pump_wait_seconds: int = Field(1, ge=0, le=20, validation_alias="ATENDE_PUMP_WAIT_SECONDS")
    #: Local only: shorten every queue's visibility timeout (seconds) so retries and the
    #: redrive to the DLQ can be watched in seconds; AWS keeps the declared values.
    visibility_timeout_seconds: int | None = Field(
        None, ge=1, le=43_200, validation_alias="ATENDE_LOCAL_VISIBILITY_TIMEOUT_SECONDS"
    )
    #: Set to "false" to start without the demo tenant.
    seed_demo: bool = Field(True, validation_alias="ATENDE_SEED_DEMO")
    livekit_url: str | None = Field(None, validation_alias="LIVEKIT_URL")
    #: "real": start Redis + livekit-server + livekit-sip (docs/media-stack.md) instead of the
    #: fake SIP API; the default "fake" keeps the first `make run` quick.
    media: Literal["fake", "real"] = Field("fake", validation_alias="ATENDE_MEDIA")
    livekit_api_key: str | None = Field(None, validation_alias="LIVEKIT_API_KEY")
    livekit_api_secret: SecretStr | None = Field(None, validation_alias="LIVEKIT_API_SECRET")

    @property
    def state_file(self) -> Path:
        """The machine-readable description of a running platform (token, demo secrets)."""
        return self.state_dir / "local.json"

    def base_url(self) -> str:
        """Where the CLI talks by default: ``ATENDE_URL`` or the local gateway."""
        if self.url:
            return self.url.rstrip("/")
        return f"http://127.0.0.1:{self.port or DEFAULT_PORT}"
