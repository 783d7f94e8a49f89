"""Contacts and Telegram account bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from api.directory.warmup_schemas import NewConversationsOut, WarmupIn
from workflows.limits import (
    MAX_CUSTOM_FIELD_KEY_CHARS,
    MAX_CUSTOM_FIELD_VALUE_CHARS,
    MAX_CUSTOM_FIELDS,
    MAX_NAME_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
)

_NOT_IN_KEYS = set("{}|") | {chr(c) for c in range(32)}


class ContactIn(BaseModel):
    username: str | None = Field(default=None, max_length=64)
    phone: str | None = Field(default=None, max_length=32)
    telegram_user_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    first_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    last_name: str | None = Field(default=None, max_length=MAX_NAME_CHARS)
    custom_fields: dict[str, str | int | float | bool | None] = Field(
        default_factory=dict,
        max_length=MAX_CUSTOM_FIELDS,
        description="Usable in templates as {custom.<key>}; scalar values",
    )
    tags: list[Annotated[str, Field(max_length=MAX_TAG_CHARS)]] = Field(
        default_factory=list, max_length=MAX_TAGS
    )

    @field_validator("custom_fields")
    @classmethod
    def _custom(cls, v: dict[str, Any]) -> dict[str, Any]:
        for key, value in v.items():
            if not 0 < len(key) <= MAX_CUSTOM_FIELD_KEY_CHARS or _NOT_IN_KEYS & set(key):
                raise ValueError(
                    f"custom field names are 1 to {MAX_CUSTOM_FIELD_KEY_CHARS} characters "
                    "without braces, '|' or control characters"
                )
            if isinstance(value, str) and len(value) > MAX_CUSTOM_FIELD_VALUE_CHARS:
                raise ValueError(
                    f"custom field {key[:40]!r} is over {MAX_CUSTOM_FIELD_VALUE_CHARS} characters"
                )
        return v

    @model_validator(mode="after")
    def _one_handle(self) -> ContactIn:
        if self.username:
            self.username = self.username.lstrip("@")
        if not (self.username or self.phone or self.telegram_user_id):
            raise ValueError("a contact needs a username, phone or telegram_user_id")
        return self


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str | None
    phone: str | None
    telegram_user_id: int | None
    first_name: str | None
    last_name: str | None
    custom_fields: dict[str, Any]
    tags: list[str]
    organization_id: int | None
    created_at: datetime


class ImportOut(BaseModel):
    created: int
    duplicates: int
    invalid: int
    errors: list[str]
    contact_ids: list[int] | None = Field(
        default=None,
        description="With ?return_ids=true: every valid row's contact, new or already stored "
        "(to add the file to a campaign)",
    )


class AccountIn(BaseModel):
    provider: Literal["simulator", "telethon"]
    phone: str = Field(min_length=3, max_length=32)
    display_name: str | None = None
    session_string: str | None = Field(default=None, description="Telethon StringSession import")
    api_id: int | None = Field(default=None, gt=0, le=2**31 - 1)
    api_hash: str | None = None
    min_interval_seconds: int = Field(default=0, ge=0, le=86400)
    jitter_seconds: int = Field(default=0, ge=0, le=86400)
    max_per_hour: int | None = Field(default=None, ge=1, le=1_000_000)
    max_per_day: int | None = Field(default=None, ge=1, le=10_000_000)
    warmup: WarmupIn | None = Field(
        default=None, description="Cap on new conversations per day with its ramp"
    )

    @model_validator(mode="after")
    def _telethon_needs_credentials(self) -> AccountIn:
        if self.provider == "telethon" and not (
            self.session_string and self.api_id and self.api_hash
        ):
            raise ValueError("telethon accounts need session_string, api_id and api_hash")
        return self


class AccountUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = None
    min_interval_seconds: int | None = Field(default=None, ge=0, le=86400)
    jitter_seconds: int | None = Field(default=None, ge=0, le=86400)
    max_per_hour: int | None = Field(default=None, ge=1, le=1_000_000)
    max_per_day: int | None = Field(default=None, ge=1, le=10_000_000)
    warmup: WarmupIn | None = Field(
        default=None, description="Cap on new conversations per day; null removes it"
    )


class AccountOut(BaseModel):
    """Credentials never leave the server; health says why an account is not sending."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    provider: str
    phone: str
    display_name: str | None
    status: str
    status_reason: str | None
    flood_wait_until: datetime | None
    cooldown_until: datetime | None
    min_interval_seconds: int
    jitter_seconds: int
    max_per_hour: int | None
    max_per_day: int | None
    warmup: WarmupIn | None = None
    first_sent_at: datetime | None = Field(
        default=None, description="The account's first send: warm-up day 1"
    )
    new_conversations: NewConversationsOut | None = None
    organization_id: int | None
    created_at: datetime


class LoginStart(BaseModel):
    phone: str = Field(min_length=5, max_length=32)
    api_id: int = Field(gt=0, le=2**31 - 1)
    api_hash: str = Field(min_length=8, max_length=64)
    display_name: str | None = None


class LoginCode(BaseModel):
    code: str = Field(min_length=1, max_length=16)


class LoginPassword(BaseModel):
    password: str = Field(min_length=1, max_length=256)
