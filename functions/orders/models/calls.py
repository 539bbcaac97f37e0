"""Call records: what the API shows about one call."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from atende_shared.models.common import AwareDatetime


class UsageView(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cost_cents: int = 0


class CallSessionView(BaseModel):
    """The fields of billing's call-session item the call record uses (read only)."""

    model_config = ConfigDict(extra="ignore")

    room_name: str
    call_id: str | None = None
    status: str = "open"
    caller_number: str | None = None
    dialled_number: str | None = None
    joined_at: AwareDatetime | None = None
    room_started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    end_reason: str | None = None
    duration_seconds: int | None = None
    billed_seconds: int | None = None
    amount_cents: int | None = None
    usage: UsageView | None = None

    @property
    def started_at(self) -> AwareDatetime | None:
        return self.joined_at or self.room_started_at


class CallRecord(BaseModel):
    """A call as the restaurant sees it: timing, cost, outcome, the order, the transcript."""

    call_id: str
    room_name: str
    status: str
    caller_number: str | None = None
    dialled_number: str | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    end_reason: str | None = None
    duration_seconds: int | None = None
    billed_seconds: int | None = None
    charged_cents: int | None = Field(None, description="what the tenant was charged")
    provider_cost_cents: int | None = Field(None, description="STT + LLM + TTS cost")
    outcome: str | None = Field(None, description="ordered, no_order, transferred, ...")
    summary: str | None = None
    order_id: str | None = None
    order_number: int | None = None
    transcript_url: str | None = Field(None, description="short-lived presigned URL")
    transcript: dict[str, Any] | None = Field(
        None, description="the transcript itself (call detail only)"
    )
