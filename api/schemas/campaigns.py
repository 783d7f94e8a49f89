"""Campaign bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.flowgraph import FlowError, parse


class SendingWindow(BaseModel):
    days: list[int] = Field(default_factory=lambda: list(range(7)))
    start: str = "00:00"
    end: str = "23:59"

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v or any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0-6, Monday = 0, at least one")
        return sorted(set(v))

    @field_validator("start", "end")
    @classmethod
    def _time(cls, v: str) -> str:
        from datetime import time

        try:
            time.fromisoformat(v)
        except ValueError:
            raise ValueError("times are HH:MM") from None
        return v


class ResponseHandling(BaseModel):
    on_reply: Literal["stop", "continue"] = "stop"


def _validate_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}") from None
    return value


def _validate_flow(value: dict[str, Any]) -> dict[str, Any]:
    try:
        parse(value)
    except FlowError as err:
        raise ValueError(str(err)) from None
    return value


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    telegram_account_id: int | None = None
    timezone: str = "UTC"
    scheduled_start_at: datetime | None = None
    sending_window: SendingWindow | None = None
    ab_test: dict[str, Any] | None = None
    response_handling: ResponseHandling = Field(default_factory=ResponseHandling)
    flow: dict[str, Any]
    contact_ids: list[int] = Field(default_factory=list, max_length=100_000)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _validate_timezone(v)

    @field_validator("flow")
    @classmethod
    def _flow(cls, v: dict[str, Any]) -> dict[str, Any]:
        return _validate_flow(v)


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    telegram_account_id: int | None = None
    timezone: str | None = None
    scheduled_start_at: datetime | None = None
    sending_window: SendingWindow | None = None
    ab_test: dict[str, Any] | None = None
    response_handling: ResponseHandling | None = None
    flow: dict[str, Any] | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return None if v is None else _validate_timezone(v)

    @field_validator("flow")
    @classmethod
    def _flow(cls, v: dict[str, Any] | None) -> dict[str, Any] | None:
        return None if v is None else _validate_flow(v)


class AccountSummary(BaseModel):
    """The campaign's sending account: who it is and how healthy."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    display_name: str | None
    phone: str
    status: str
    status_reason: str | None
    flood_wait_until: datetime | None
    cooldown_until: datetime | None


class PersonSummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str | None
    email: str


class CampaignOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    description: str | None
    status: str
    # Why the system (not a user) put the campaign in this status, e.g. an automatic
    # pause when its account lost authorization; null after a user's action.
    status_reason: str | None
    enabled: bool
    telegram_account_id: int | None
    timezone: str
    scheduled_start_at: datetime | None
    sending_window: dict[str, Any] | None
    ab_test: dict[str, Any] | None
    response_handling: dict[str, Any]
    flow: dict[str, Any]
    flow_version: int
    created_by: int
    organization_id: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    account: AccountSummary | None = None
    creator: PersonSummary | None = None


class ContactIds(BaseModel):
    contact_ids: list[int] = Field(min_length=1, max_length=100_000)


class AddContactsIn(ContactIds):
    allow_other_campaigns: bool = Field(
        default=False,
        description="Add contacts even while another active or scheduled campaign has them",
    )


class AddContactsOut(BaseModel):
    added: int
    skipped: int = Field(description="Already in this campaign")
    in_other_campaign: int = Field(
        default=0, description="Skipped: in conversation in another active or scheduled campaign"
    )


class RemoveContactsOut(BaseModel):
    removed: int


class CampaignContactOut(BaseModel):
    execution_id: int
    contact_id: int
    username: str | None
    first_name: str | None
    last_name: str | None
    status: str
    current_node_id: str | None
    next_execution_at: datetime | None
    waiting_reason: str | None = Field(
        None,
        description="Why an open lead is not moving: rate_limit, daily_cap, outside_window, "
        "flood_wait, peer_flood (a deferred send), delay, reply (the flow waits), scheduled, "
        "queued (its workflow is about to start) or paused",
    )
    waiting_until: datetime | None = Field(None, description="When it moves on by itself")
    started_at: datetime | None
    completed_at: datetime | None
    error_message: str | None
