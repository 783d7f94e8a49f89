"""Sending windows: daytime, overnight across midnight, and across a DST change."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from workflows.pacing import window_deferral

BERLIN = "Europe/Berlin"
NIGHT = {"days": [5], "start": "22:00", "end": "06:00"}  # Saturday night into Sunday


def _at(tz: str, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def test_daytime_window() -> None:
    window = {"days": [0, 1, 2, 3, 4], "start": "09:00", "end": "17:00"}
    assert window_deferral(window, "UTC", _at("UTC", 2026, 3, 2, 10, 0)) is None  # Monday
    late = window_deferral(window, "UTC", _at("UTC", 2026, 3, 2, 17, 0))
    assert late is not None and late.until == _at("UTC", 2026, 3, 3, 9, 0)
    weekend = window_deferral(window, "UTC", _at("UTC", 2026, 3, 7, 12, 0))
    assert weekend is not None and weekend.until == _at("UTC", 2026, 3, 9, 9, 0)


def test_overnight_window_runs_into_the_next_morning_across_spring_forward() -> None:
    # 2026-03-28 is a Saturday; clocks in Berlin jump from 02:00 to 03:00 on Sunday 29th.
    assert window_deferral(NIGHT, BERLIN, _at(BERLIN, 2026, 3, 28, 23, 30)) is None
    # 01:30 local is before the jump (CET); 04:30 local is after it (CEST): both inside.
    assert window_deferral(NIGHT, BERLIN, datetime(2026, 3, 29, 0, 30, tzinfo=UTC)) is None
    assert window_deferral(NIGHT, BERLIN, datetime(2026, 3, 29, 2, 30, tzinfo=UTC)) is None
    # 06:00 CEST = 04:00 UTC closes it; the next opening is Saturday 22:00 CEST.
    closed = window_deferral(NIGHT, BERLIN, datetime(2026, 3, 29, 4, 0, tzinfo=UTC))
    assert closed is not None and closed.reason == "outside_window"
    assert closed.until == datetime(2026, 4, 4, 20, 0, tzinfo=UTC)
    # Before it opens on Saturday evening: wait until 22:00 CET (21:00 UTC).
    early = window_deferral(NIGHT, BERLIN, _at(BERLIN, 2026, 3, 28, 21, 0))
    assert early is not None and early.until == datetime(2026, 3, 28, 21, 0, tzinfo=UTC)


def test_overnight_window_across_fall_back() -> None:
    # 2026-10-24 is a Saturday; Berlin goes from 03:00 CEST back to 02:00 CET on the 25th.
    assert window_deferral(NIGHT, BERLIN, datetime(2026, 10, 25, 0, 30, tzinfo=UTC)) is None
    assert window_deferral(NIGHT, BERLIN, datetime(2026, 10, 25, 4, 59, tzinfo=UTC)) is None
    # 06:00 CET = 05:00 UTC: an hour later in UTC than in summer.
    closed = window_deferral(NIGHT, BERLIN, datetime(2026, 10, 25, 5, 0, tzinfo=UTC))
    assert closed is not None and closed.until == datetime(2026, 10, 31, 21, 0, tzinfo=UTC)


def test_a_sunday_morning_needs_saturday_listed() -> None:
    # The tail after midnight belongs to the day the window opened.
    friday_only = {"days": [4], "start": "22:00", "end": "06:00"}
    sunday_early = datetime(2026, 3, 1, 3, 0, tzinfo=UTC)  # Sunday 03:00 UTC
    assert window_deferral(friday_only, "UTC", sunday_early) is not None
    assert window_deferral(friday_only, "UTC", datetime(2026, 2, 28, 3, 0, tzinfo=UTC)) is None
