"""Pure rules for when an account may send: windows, intervals, caps, health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from db.models import TelegramAccount
from db.vocabulary import WaitingReason

HOUR = timedelta(hours=1)
QUEUED = "queued behind earlier sends"
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Deferral:
    reason: str  # rate_limit | daily_cap | outside_window | flood_wait | peer_flood
    until: datetime
    detail: str


def window_deferral(window: dict[str, Any] | None, tz: str, now: datetime) -> Deferral | None:
    """None inside the campaign's sending window, else when the next window opens.

    start > end is an overnight window: it opens at start on a listed day and closes at
    end the next morning (api.campaigns.schemas.SendingWindow).
    """
    if not window:
        return None
    zone = ZoneInfo(tz)
    days = set(window.get("days") or range(7))
    start = time.fromisoformat(window.get("start", "00:00"))
    end = time.fromisoformat(window.get("end", "23:59:59"))
    local = now.astimezone(zone)
    at = local.time()
    if start < end:
        inside = local.weekday() in days and start <= at < end
    else:  # overnight: this evening's window, or the tail of yesterday's
        yesterday = (local.weekday() - 1) % 7
        inside = (local.weekday() in days and at >= start) or (yesterday in days and at < end)
    if inside:
        return None
    for offset in range(8):
        day = (local + timedelta(days=offset)).date()
        if day.weekday() not in days:
            continue
        opening = datetime.combine(day, start, tzinfo=zone)
        if opening > local:
            return Deferral(
                WaitingReason.OUTSIDE_WINDOW,
                opening,
                f"outside the sending window {start:%H:%M}-{end:%H:%M} {tz}",
            )
    raise ValueError("sending window has no open day")


# A reserved send finding the previous send late (its claim came after its own slot,
# on a loaded machine by seconds) waits in the activity, outside any lock, for the
# interval to pass, rather than losing its place: deferred again it would go to the
# back of the queue, and the sends after it would find the same gap and follow it.
SHORT_WAIT = timedelta(seconds=1)
HOLD_SLOT = timedelta(seconds=20)
# A send deferred to a reserved slot wakes this much before it (SendResult.wait_until)
# and sleeps in the activity until the slot itself, holding nothing meanwhile
# (send_guard.wait_for_slot): the workflow timer, the workflow task and the activity's
# start (tens of ms, seconds on an overloaded machine) then come before the slot
# instead of after it, so the account sends at its interval, not at its interval plus
# that latency, and a late wake-up rarely loses its slot.
EARLY_WAKE = timedelta(seconds=3)


@dataclass(frozen=True)
class Turn:
    """This send's turn on the account: go now, wait a moment, or defer to a slot."""

    deferral: Deferral | None = None
    # The slot reserved for a deferred send: it goes at that time without queueing again.
    slot: datetime | None = None
    # The account's queue tail (next_send_at) to store, None to leave it.
    next_send_at: datetime | None = None
    # Go after a wait in the activity, outside its locks (see HOLD_SLOT, EARLY_WAKE).
    wait_until: datetime | None = None

    @property
    def go(self) -> bool:
        return self.deferral is None and self.wait_until is None


def blocked(
    account: TelegramAccount,
    now: datetime,
    *,
    sent_last_hour: list[datetime],
    sent_last_day: list[datetime],
) -> Deferral | None:
    """Telegram's waits and the account's caps: no send before the returned time."""
    if account.flood_wait_until and account.flood_wait_until > now:
        return Deferral(
            WaitingReason.FLOOD_WAIT,
            account.flood_wait_until,
            "Telegram asked to wait (FLOOD_WAIT)",
        )
    if account.cooldown_until and account.cooldown_until > now:
        return Deferral(
            WaitingReason.PEER_FLOOD,
            account.cooldown_until,
            "account cooling down after PEER_FLOOD",
        )
    if account.max_per_day is not None and len(sent_last_day) >= account.max_per_day:
        return Deferral(
            WaitingReason.DAILY_CAP, min(sent_last_day) + DAY, f"{account.max_per_day}/day reached"
        )
    if account.max_per_hour is not None and len(sent_last_hour) >= account.max_per_hour:
        return Deferral(
            WaitingReason.RATE_LIMIT,
            min(sent_last_hour) + HOUR,
            f"{account.max_per_hour}/hour reached",
        )
    return None


def account_turn(
    account: TelegramAccount,
    now: datetime,
    *,
    reserved_slot: datetime | None,
    spacing: timedelta,
    sent_last_hour: list[datetime],
    sent_last_day: list[datetime],
) -> Turn:
    """When this send may go, reserving ordered slots so that waiting sends do not wake
    together and defer again (O(N^2) deferrals for N waiting sends).

    `account.next_send_at` is the queue's tail: the first free slot. A send with no
    slot that cannot go now takes the next free one (after the interval since the last
    send and after the tail) and moves the tail on by `spacing` (interval + jitter); it
    wakes EARLY_WAKE before its slot, waits for it, and then goes without queueing
    again. Caps and Telegram's waits come first: capped sends reserve slots from the
    time the cap lets one through, in order.
    """
    if reserved_slot is not None and now < reserved_slot <= now + EARLY_WAKE + SHORT_WAIT:
        return Turn(wait_until=reserved_slot)  # woke early on purpose (EARLY_WAKE)
    tail = account.next_send_at
    held = blocked(account, now, sent_last_hour=sent_last_hour, sent_last_day=sent_last_day)
    if held is not None:
        if held.reason in (WaitingReason.FLOOD_WAIT, WaitingReason.PEER_FLOOD):
            return Turn(deferral=held)  # they all queue again, in order, once it is over
        slot = max(held.until, tail) if tail else held.until
        return Turn(deferral=held, slot=slot, next_send_at=slot + spacing)
    interval = timedelta(seconds=account.min_interval_seconds)
    gap_at = account.last_sent_at + interval if account.last_sent_at else None
    if reserved_slot is not None:
        if gap_at is None or gap_at <= now:
            return Turn(next_send_at=max(tail, now + spacing) if tail else now + spacing)
        if gap_at - now <= HOLD_SLOT:
            return Turn(wait_until=gap_at)
        # Held up for longer (the interval was raised meanwhile): the next free one.
    slot = max(t for t in (now, gap_at, tail) if t is not None)
    if slot <= now:
        return Turn(next_send_at=now + spacing)
    detail = (
        QUEUED
        if tail is not None and slot == tail
        else f"minimum interval {account.min_interval_seconds}s"
    )
    return Turn(
        deferral=Deferral(WaitingReason.RATE_LIMIT, slot, detail),
        slot=slot,
        next_send_at=slot + spacing,
    )
