"""Pure rules for when an account may send: the campaign's sending window, Telegram's
waits and the account's caps. The send path (activities.limits) applies them; the api's
preview and pace reports read them, so both answer alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from db.vocabulary import WaitingReason

if TYPE_CHECKING:
    from db.models import TelegramAccount

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
