"""Why a lead waits, read from its status, its newest wait row and its campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from api.campaigns.waiting import waiting_of

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


@pytest.mark.parametrize(
    ("status", "event", "deferral", "campaign", "expected"),
    [
        ("waiting", "deferred", "outside_window", "active", ("outside_window", LATER)),
        ("waiting", "deferred", "flood_wait", "active", ("flood_wait", LATER)),
        ("waiting", "delay_started", None, "active", ("delay", LATER)),
        ("waiting", "waiting_for_reply", None, "active", ("reply", LATER)),
        ("waiting", "deferred", "something_new", "active", (None, LATER)),
        ("waiting", "delay_started", None, "paused", ("paused", None)),
        ("paused", None, None, "active", ("paused", None)),
        ("pending", None, None, "scheduled", ("scheduled", NOW)),
        ("pending", None, None, "active", ("queued", None)),
        ("pending", None, None, "draft", (None, None)),
        ("running", None, None, "active", (None, None)),
        ("completed", None, None, "active", (None, None)),
    ],
)
def test_waiting_reason(
    status: str,
    event: str | None,
    deferral: str | None,
    campaign: str,
    expected: tuple[str | None, datetime | None],
) -> None:
    found = waiting_of(
        status=status,
        wait_event=event,
        deferral_reason=deferral,
        deferral_until=None,
        next_execution_at=LATER,
        campaign_status=campaign,
        scheduled_start_at=NOW,
    )
    assert found == expected
