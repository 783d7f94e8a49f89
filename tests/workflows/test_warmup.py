"""The warm-up ramp and the new-conversation cap (pure, milliseconds)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflows.warmup import (
    PEER_FLOOD_COOLDOWN,
    WAKE_SPREAD_SECONDS,
    Warmup,
    new_conversation_limit,
    reopens_at,
    warmup_day,
    warmup_of,
)

NOON = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def test_ramp_starts_increases_and_stops_at_max() -> None:
    ramp = Warmup(start_per_day=5, increase_per_day=3, max_per_day=12)
    assert [ramp.cap_on(day) for day in range(1, 6)] == [5, 8, 11, 12, 12]
    assert warmup_of(5, None, None) == Warmup(5, 0, 5)
    assert warmup_of(None, 3, 12) is None


def test_days_count_from_the_first_send_in_utc_days() -> None:
    assert warmup_day(None, NOON) == 1
    late = datetime(2026, 3, 8, 23, 59, tzinfo=UTC)
    assert warmup_day(late, NOON) == 3  # the 8th is day 1, the 10th day 3
    assert warmup_day(NOON, NOON + timedelta(hours=11)) == 1
    assert warmup_day(NOON, NOON + timedelta(hours=12)) == 2


def test_cap_reached_says_the_cap_and_the_day() -> None:
    first = NOON - timedelta(days=2)
    limit = new_conversation_limit(
        Warmup(10, 5, 50), first_sent_at=first, cooldown_until=None, started_that_day=20, at=NOON
    )
    assert limit.reached and limit.remaining == 0
    assert limit.reason() == "new-conversation cap 20/day reached (warm-up day 3)"
    below = new_conversation_limit(
        Warmup(10, 5, 50), first_sent_at=first, cooldown_until=None, started_that_day=19, at=NOON
    )
    assert not below.reached and below.remaining == 1


def test_no_warmup_no_cap() -> None:
    limit = new_conversation_limit(
        None, first_sent_at=None, cooldown_until=None, started_that_day=10**6, at=NOON
    )
    assert not limit.reached and limit.cap is None and limit.remaining is None


def test_peer_flood_today_closes_new_conversations_until_tomorrow() -> None:
    flooded_at = NOON - timedelta(hours=3)
    today = new_conversation_limit(
        Warmup(10, 0, 10),
        first_sent_at=None,
        cooldown_until=flooded_at + PEER_FLOOD_COOLDOWN,
        started_that_day=0,
        at=NOON,
    )
    assert today.reached and "PEER_FLOOD" in today.reason()
    tomorrow = new_conversation_limit(
        Warmup(10, 0, 10),
        first_sent_at=None,
        cooldown_until=flooded_at + PEER_FLOOD_COOLDOWN,
        started_that_day=0,
        at=NOON + timedelta(days=1),
    )
    assert not tomorrow.reached


def test_held_leads_wake_early_next_day_spread_out() -> None:
    wakes = {reopens_at(NOON, execution_id) for execution_id in range(1, 200)}
    midnight = datetime(2026, 3, 11, tzinfo=UTC)
    assert all(midnight <= w < midnight + timedelta(seconds=WAKE_SPREAD_SECONDS) for w in wakes)
    assert len(wakes) > 100
