"""Campaign bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.campaigns.flows import FlowIn, FlowOut
from api.directory.warmup_schemas import MAX_CAMPAIGN_ACCOUNTS
from workflows.limits import MAX_DESCRIPTION_CHARS, MAX_NAME_CHARS

_HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")


class SendingWindow(BaseModel):
    """When sends may leave, in the campaign's timezone.

    start < end: that span of each listed day. start > end: an overnight window, from
    start on a listed day until end the next morning (22:00-06:00). start = end or no
    days would never send, so they are refused.
    """

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"},
                {"days": [4, 5], "start": "22:00", "end": "06:00"},
            ]
        }
    )

    days: list[int] = Field(
        default_factory=lambda: list(range(7)),
        min_length=1,
        max_length=7,
        description="Weekdays the window opens on, Monday = 0",
    )
    start: str = Field(default="00:00", description="HH:MM, 24-hour")
    end: str = Field(default="23:59", description="HH:MM; before start means the next day")

    @field_validator("days")
    @classmethod
    def _days(cls, v: list[int]) -> list[int]:
        if not v or any(d < 0 or d > 6 for d in v):
            raise ValueError("days are 0-6, Monday = 0, at least one")
        return sorted(set(v))

    @field_validator("start", "end")
    @classmethod
    def _time(cls, v: str) -> str:
        if not _HHMM.fullmatch(v):
            raise ValueError("times are HH:MM (00:00 to 23:59)")
        return v

    @model_validator(mode="after")
    def _not_empty(self) -> SendingWindow:
        if self.start == self.end:
            raise ValueError(
                "start equals end: the window would never open "
                "(use start < end, or start > end for an overnight window)"
            )
        return self


class ResponseHandling(BaseModel):
    on_reply: Literal["stop", "continue"] = "stop"


def _validate_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown timezone {value!r}") from None
    return value


class CampaignCreate(BaseModel):
    name: str = Field(min_length=1, max_length=MAX_NAME_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    telegram_account_id: int | None = None
    telegram_account_ids: list[int] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CAMPAIGN_ACCOUNTS,
        description="Every account the campaign sends from; each lead is pinned to one. "
        "telegram_account_id is the first of them (alone: the only one)",
    )
    timezone: str = "UTC"
    scheduled_start_at: datetime | None = None
    sending_window: SendingWindow | None = None
    ab_test: dict[str, Any] | None = None
    response_handling: ResponseHandling = Field(default_factory=ResponseHandling)
    flow: FlowIn
    contact_ids: list[int] = Field(default_factory=list, max_length=100_000)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        return _validate_timezone(v)

    @field_validator("telegram_account_ids")
    @classmethod
    def _distinct(cls, v: list[int] | None) -> list[int] | None:
        return _distinct_accounts(v)


class CampaignUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION_CHARS)
    telegram_account_id: int | None = None
    telegram_account_ids: list[int] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_CAMPAIGN_ACCOUNTS,
        description="Every account the campaign sends from; each lead is pinned to one. "
        "telegram_account_id is the first of them (alone: the only one)",
    )
    timezone: str | None = None
    scheduled_start_at: datetime | None = None
    sending_window: SendingWindow | None = None
    ab_test: dict[str, Any] | None = None
    response_handling: ResponseHandling | None = None
    flow: FlowIn | None = None

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str | None) -> str | None:
        return None if v is None else _validate_timezone(v)

    @field_validator("telegram_account_ids")
    @classmethod
    def _distinct(cls, v: list[int] | None) -> list[int] | None:
        return _distinct_accounts(v)


def _distinct_accounts(v: list[int] | None) -> list[int] | None:
    if v is not None and len(set(v)) != len(v):
        raise ValueError("an account is listed twice")
    return v


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
    telegram_account_ids: list[int] = Field(
        description="Every account the campaign sends from, telegram_account_id first"
    )
    timezone: str
    scheduled_start_at: datetime | None
    sending_window: dict[str, Any] | None
    ab_test: dict[str, Any] | None
    response_handling: dict[str, Any]
    flow: FlowOut
    flow_version: int
    created_by: int
    organization_id: int | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    account: AccountSummary | None = None
    accounts: list[AccountSummary] = Field(
        default_factory=list, description="Each of telegram_account_ids, in order"
    )
    creator: PersonSummary | None = None

    @field_validator("telegram_account_ids", mode="before")
    @classmethod
    def _listed(cls, v: list[int] | None) -> list[int]:
        return list(v or [])

    @model_validator(mode="after")
    def _first_listed(self) -> CampaignOut:
        if not self.telegram_account_ids and self.telegram_account_id is not None:
            self.telegram_account_ids = [self.telegram_account_id]
        return self


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
    telegram_account_id: int | None = Field(
        None, description="The account the lead hears from, pinned when its workflow starts"
    )
