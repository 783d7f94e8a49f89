"""Sending windows and account limits, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.limits import account_deferral, window_deferral
from db.models import TelegramAccount

NOW = datetime(2026, 11, 26, 20, 0, tzinfo=UTC)  # a Thursday


def test_no_window_means_any_time() -> None:
    assert window_deferral(None, "UTC", NOW) is None


def test_window_in_another_timezone() -> None:
    window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "18:00"}
    # 20:00 UTC is 15:00 in New York: inside.
    assert window_deferral(window, "America/New_York", NOW) is None
    # ... and 05:00 next day in Tokyo: before the window opens at 09:00 local.
    d = window_deferral(window, "Asia/Tokyo", NOW)
    assert d is not None and d.reason == "outside_window"
    assert d.until == datetime(2026, 11, 27, 0, 0, tzinfo=UTC)


def test_window_skips_closed_days() -> None:
    window = {"days": [0], "start": "09:00", "end": "10:00"}  # Mondays only
    d = window_deferral(window, "UTC", NOW)
    assert d is not None
    assert d.until == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def account(**kw: object) -> TelegramAccount:
    defaults: dict[str, object] = {"min_interval_seconds": 0, "jitter_seconds": 0}
    return TelegramAccount(**{**defaults, **kw})


def test_interval_and_caps() -> None:
    a = account(min_interval_seconds=30, last_sent_at=NOW - timedelta(seconds=10))
    d = account_deferral(a, NOW, reserved_slot=None, sent_last_hour=[], sent_last_day=[])
    assert d is not None and d.reason == "rate_limit"
    assert d.until == NOW + timedelta(seconds=20)
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=5)]
    d = account_deferral(
        account(max_per_hour=2), NOW, reserved_slot=None, sent_last_hour=sent, sent_last_day=sent
    )
    assert d is not None and d.until == NOW + timedelta(minutes=10)
    d = account_deferral(
        account(max_per_day=2), NOW, reserved_slot=None, sent_last_hour=[], sent_last_day=sent
    )
    assert d is not None and d.reason == "daily_cap"


def test_flood_wait_and_reservation() -> None:
    d = account_deferral(
        account(flood_wait_until=NOW + timedelta(seconds=5)),
        NOW,
        reserved_slot=None,
        sent_last_hour=[],
        sent_last_day=[],
    )
    assert d is not None and d.reason == "flood_wait"
    queued = account(next_send_at=NOW + timedelta(seconds=40))
    assert (
        account_deferral(queued, NOW, reserved_slot=None, sent_last_hour=[], sent_last_day=[])
        is not None
    )
    assert (
        account_deferral(queued, NOW, reserved_slot=NOW, sent_last_hour=[], sent_last_day=[])
        is None
    )
