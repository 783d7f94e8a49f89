"""Webhook bodies: a receiver, its deliveries and their attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from db.vocabulary import DeliveryStatus, WebhookEvent


class WebhookIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=1, max_length=2000, description="http(s) URL of the receiver")
    events: list[WebhookEvent] = Field(min_length=1, max_length=len(WebhookEvent))
    description: str | None = Field(default=None, max_length=500)

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[WebhookEvent]) -> list[WebhookEvent]:
        return list(dict.fromkeys(events))


class WebhookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    url: str
    events: list[WebhookEvent]
    description: str | None
    organization_id: int | None
    user_id: int = Field(description="Who created it")
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(
        description="The signing secret: shown this once, never again (docs/webhooks.md)"
    )


class AttemptOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attempted_at: datetime
    duration_ms: int
    response_status: int | None = Field(description="The receiver's HTTP status, if it answered")
    error: str | None = Field(description="Why no answer came (refused address, timeout, ...)")
    manual: bool = Field(description="Made after a redeliver request")


class DeliveryOut(BaseModel):
    id: int
    event_id: str = Field(description="The receiver's dedup key, the same on every attempt")
    event_type: WebhookEvent
    campaign_id: int | None
    status: DeliveryStatus
    payload: dict[str, Any] = Field(description="The event's `data`")
    created_at: datetime
    delivered_at: datetime | None
    redelivered_at: datetime | None
    attempts: list[AttemptOut]
