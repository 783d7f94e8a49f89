"""Pure rules of an account's warm-up: its cap on new conversations per UTC day.

A new conversation is the first message an account sends to a lead. The cap ramps
from `start_per_day` on the account's first day of sending by `increase_per_day` each
day, up to `max_per_day`; a PEER_FLOOD closes new conversations for the rest of the day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import TYPE_CHECKING

from db.vocabulary import UNHEALTHY_ACCOUNT, WaitingReason
from workflows.pacing import Deferral

if TYPE_CHECKING:
    from db.models import TelegramAccount

DAY = timedelta(days=1)
# How long an account sends nothing after Telegram answered PEER_FLOOD.
PEER_FLOOD_COOLDOWN = timedelta(hours=1)
# Leads held by a cap wake in the first minutes of the next day, spread by execution,
# so that they do not all take the account's lock at midnight at once.
WAKE_SPREAD_SECONDS = 600
# A lead of an unhealthy account looks again this often (it moves only when its
# campaign drops the account: activities.rotation.follow_campaign).
UNHEALTHY_RECHECK = timedelta(minutes=30)


def unserved_deferral(account: TelegramAccount, now: datetime) -> Deferral:
    """Why a send still waits on its account's queue, no worker having taken it: the
    account cannot send until a person acts, or no running worker holds it."""
    held = unhealthy_deferral(account, now)
    if held is not None:
        return held
    name = account.display_name or account.phone
    return Deferral(
        WaitingReason.ACCOUNT_UNHEALTHY,
        now + UNHEALTHY_RECHECK,
        f"account {name} is {account.status} but no worker holds it: is a worker running "
        "that can sign it in?",
    )


def unhealthy_deferral(account: TelegramAccount, now: datetime) -> Deferral | None:
    """The wait of a lead whose account cannot send until a person acts (banned, signed
    out, never signed in): it waits for its account, looking again every 30 minutes."""
    if account.status not in UNHEALTHY_ACCOUNT:
        return None
    name = account.display_name or account.phone
    return Deferral(
        WaitingReason.ACCOUNT_UNHEALTHY,
        now + UNHEALTHY_RECHECK,
        f"account {name} is {account.status}: its leads wait for it",
    )


@dataclass(frozen=True)
class Warmup:
    start_per_day: int
    increase_per_day: int
    max_per_day: int

    def cap_on(self, day: int) -> int:
        """New conversations allowed on warm-up day `day` (1 = the first day)."""
        return min(self.start_per_day + self.increase_per_day * (day - 1), self.max_per_day)


def warmup_of(start: int | None, increase: int | None, maximum: int | None) -> Warmup | None:
    """The account's stored ramp; None when it has none (no new-conversation cap)."""
    if start is None:
        return None
    return Warmup(start, increase or 0, maximum if maximum is not None else start)


def day_start(at: datetime) -> datetime:
    """Midnight UTC of the day `at` is in: caps count per UTC day."""
    return datetime.combine(at.astimezone(UTC).date(), time(0), tzinfo=UTC)


def warmup_day(first_sent_at: datetime | None, at: datetime) -> int:
    """Day 1 is the UTC day of the account's first send (today when it never sent)."""
    if first_sent_at is None or first_sent_at > at:
        return 1
    return (day_start(at) - day_start(first_sent_at)).days + 1


@dataclass(frozen=True)
class NewConversationLimit:
    """What the cap allows on one day: cap None means no cap that day."""

    day: int
    cap: int | None
    started: int
    peer_flooded: bool

    @property
    def reached(self) -> bool:
        return self.peer_flooded or (self.cap is not None and self.started >= self.cap)

    @property
    def remaining(self) -> int | None:
        if self.peer_flooded:
            return 0
        return None if self.cap is None else max(self.cap - self.started, 0)

    def reason(self) -> str:
        if self.peer_flooded:
            return "new conversations closed for today after PEER_FLOOD"
        return f"new-conversation cap {self.cap}/day reached (warm-up day {self.day})"


def new_conversation_limit(
    warmup: Warmup | None,
    *,
    first_sent_at: datetime | None,
    cooldown_until: datetime | None,
    started_that_day: int,
    at: datetime,
) -> NewConversationLimit:
    """The limit on the day of `at`, with the conversations already started that day."""
    day = warmup_day(first_sent_at, at)
    flooded = cooldown_until is not None and cooldown_until - PEER_FLOOD_COOLDOWN >= day_start(at)
    return NewConversationLimit(
        day=day,
        cap=warmup.cap_on(day) if warmup is not None else None,
        started=started_that_day,
        peer_flooded=flooded,
    )


def reopens_at(at: datetime, execution_id: int) -> datetime:
    """When a lead held by the cap tries again: early next day, spread by execution."""
    return day_start(at) + DAY + timedelta(seconds=(execution_id * 7919) % WAKE_SPREAD_SECONDS)


def cap_deferral(
    warmup: Warmup,
    account: TelegramAccount,
    *,
    started_that_day: int,
    at: datetime,
    execution_id: int,
) -> Deferral | None:
    """A lead's first message from the account when the day's new conversations are all
    started: held to the next day's reopening, with the cap's reason."""
    limit = new_conversation_limit(
        warmup,
        first_sent_at=account.first_sent_at,
        cooldown_until=account.cooldown_until,
        started_that_day=started_that_day,
        at=at,
    )
    if not limit.reached:
        return None
    return Deferral(
        WaitingReason.NEW_CONVERSATION_CAP, reopens_at(at, execution_id), limit.reason()
    )
