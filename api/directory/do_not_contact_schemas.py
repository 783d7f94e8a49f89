"""Do-not-contact list and reply rules bodies."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from db.vocabulary import ReplyCategory

USERNAME = re.compile(r"^[A-Za-z0-9_]{3,64}$")
PHONE = re.compile(r"^\+?[0-9]{5,20}$")


class HandleIn(BaseModel):
    """One lead to list, by exactly one of its handles."""

    model_config = ConfigDict(extra="forbid")

    username: str | None = Field(default=None, max_length=65)
    phone: str | None = Field(default=None, max_length=32)
    telegram_user_id: int | None = Field(default=None, ge=1, le=2**63 - 1)

    @model_validator(mode="after")
    def _one_handle(self) -> HandleIn:
        given = [v for v in (self.username, self.phone, self.telegram_user_id) if v]
        if len(given) != 1:
            raise ValueError("give exactly one of username, phone or telegram_user_id")
        if self.username is not None:
            self.username = self.username.lstrip("@")
            if not USERNAME.match(self.username):
                raise ValueError("username must be 3-64 letters, digits or underscores")
        if self.phone is not None and not PHONE.match(self.phone):
            raise ValueError("phone must be digits with an optional leading +")
        return self


class HandlesIn(BaseModel):
    entries: list[HandleIn] = Field(min_length=1, max_length=10_000)


class DoNotContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: Literal["username", "phone", "telegram_user_id"]
    value: str
    source: Literal["manual", "reply"]
    organization_id: int | None
    created_at: datetime


class AddedOut(BaseModel):
    added: int
    already_listed: int


class RemovedOut(BaseModel):
    removed: int
    not_listed: int


class ReplyRuleIn(BaseModel):
    """Keywords (whole words or phrases, any case) and regex patterns for one category."""

    model_config = ConfigDict(extra="forbid")

    category: ReplyCategory
    keywords: list[Annotated[str, Field(min_length=1, max_length=100)]] = Field(
        default_factory=list, max_length=200
    )
    patterns: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=50
    )

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str]) -> list[str]:
        for i, pattern in enumerate(patterns):
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"pattern {i} is not a valid regular expression: {err}") from None
        return patterns


class ReplyRulesIn(BaseModel):
    rules: list[ReplyRuleIn] = Field(max_length=50, description="First matching rule wins")


class ReplyRulesOut(BaseModel):
    rules: list[ReplyRuleIn]
    default: bool = Field(description="True while the scope uses the built-in rules")
