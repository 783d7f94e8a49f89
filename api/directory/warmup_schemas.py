"""Account rotation and warm-up as the api shows them."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator

MAX_CAMPAIGN_ACCOUNTS = 50


class WarmupIn(BaseModel):
    """An account's cap on new conversations per UTC day, ramping from the account's
    first send: day 1 allows start_per_day, each later day increase_per_day more, up to
    max_per_day."""

    start_per_day: int = Field(ge=1, le=100_000)
    increase_per_day: int = Field(default=0, ge=0, le=100_000)
    max_per_day: int = Field(ge=1, le=100_000)

    @model_validator(mode="after")
    def _max_at_least_start(self) -> WarmupIn:
        if self.max_per_day < self.start_per_day:
            raise ValueError("max_per_day must be at least start_per_day")
        return self


class NewConversationsOut(BaseModel):
    """Today's new conversations of an account against its cap (UTC days)."""

    today: int = Field(description="New conversations started (or reserved) today")
    cap: int | None = Field(description="Today's cap from the warm-up; null: no cap")
    warmup_day: int = Field(description="Day of warm-up, 1 on the day of the first send")
    closed_by_peer_flood: bool = Field(
        description="A PEER_FLOOD today closed new conversations until tomorrow"
    )


def normalized_account_ids(
    first: int | None, ids: list[int] | None, *, first_set: bool, ids_set: bool
) -> tuple[int | None, list[int] | None] | None:
    """(telegram_account_id, telegram_account_ids) from what a request set; None when it
    set neither. The list wins; the single id alone means the only account."""
    if ids_set and ids is not None:
        if first_set and first is not None and first != ids[0]:
            raise ValueError("telegram_account_id must be the first of telegram_account_ids")
        return ids[0], ids
    if ids_set or first_set:
        return first, [first] if first is not None else None
    return None
