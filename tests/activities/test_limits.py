"""Sending windows and account limits, as pure functions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.limits import EARLY_WAKE, SHORT_WAIT, Turn, account_turn
from db.models import TelegramAccount
from workflows.pacing import window_deferral

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


SECOND = timedelta(seconds=1)


def turn(a: TelegramAccount, *, reserved: datetime | None = None, **kw: list[datetime]) -> Turn:
    return account_turn(
        a,
        NOW,
        reserved_slot=reserved,
        spacing=timedelta(seconds=a.min_interval_seconds),
        sent_last_hour=kw.get("hour", []),
        sent_last_day=kw.get("day", []),
    )


def test_interval_and_caps() -> None:
    t = turn(account(min_interval_seconds=30, last_sent_at=NOW - timedelta(seconds=10)))
    assert t.deferral is not None and t.deferral.reason == "rate_limit"
    assert t.slot == NOW + timedelta(seconds=20)
    assert t.next_send_at == NOW + timedelta(seconds=50)  # the next waiter's slot
    sent = [NOW - timedelta(minutes=50), NOW - timedelta(minutes=5)]
    t = turn(account(max_per_hour=2), hour=sent, day=sent)
    assert t.deferral is not None and t.deferral.until == NOW + timedelta(minutes=10)
    t = turn(account(max_per_day=2), day=sent)
    assert t.deferral is not None and t.deferral.reason == "daily_cap"


def test_flood_wait_and_reservation() -> None:
    t = turn(account(flood_wait_until=NOW + timedelta(seconds=5)))
    assert t.deferral is not None and t.deferral.reason == "flood_wait" and t.slot is None
    queued = account(next_send_at=NOW + timedelta(seconds=40))
    assert turn(queued).deferral is not None
    assert turn(queued, reserved=NOW).go


def test_waiting_sends_get_ordered_slots_and_go_at_them() -> None:
    # Three sends arrive together, one a second: each is deferred once, to its own slot.
    a = account(min_interval_seconds=1, last_sent_at=NOW, next_send_at=NOW + SECOND)
    slots = []
    for _ in range(3):
        t = turn(a)
        assert t.deferral is not None and t.slot is not None
        slots.append(t.slot)
        a.next_send_at = t.next_send_at
    assert slots == [NOW + SECOND, NOW + 2 * SECOND, NOW + 3 * SECOND]
    # At its slot a reserved send goes without queueing behind the later reservations.
    at_slot = account(
        min_interval_seconds=1, last_sent_at=NOW - SECOND, next_send_at=NOW + 3 * SECOND
    )
    t = turn(at_slot, reserved=NOW)
    assert t.go and t.next_send_at == NOW + 3 * SECOND


def test_a_reserved_send_waits_a_moment_for_a_late_predecessor() -> None:
    late = account(min_interval_seconds=1, last_sent_at=NOW - timedelta(milliseconds=900))
    t = turn(late, reserved=NOW)
    assert not t.go and t.deferral is None
    assert t.wait_until == NOW + timedelta(milliseconds=100)


def test_a_reserved_send_keeps_its_place_behind_a_late_predecessor() -> None:
    # Slots 10 s apart; the previous send claimed 8 s after its slot (a loaded machine):
    # this one waits for the interval instead of going to the back of the queue.
    late = account(min_interval_seconds=10, last_sent_at=NOW - 2 * SECOND)
    t = turn(late, reserved=NOW)
    assert t.deferral is None and t.wait_until == NOW + 8 * SECOND
    # Held up beyond HOLD_SLOT (the interval was raised meanwhile): queued again.
    raised = account(min_interval_seconds=3600, last_sent_at=NOW - SECOND)
    assert turn(raised, reserved=NOW).deferral is not None


def test_a_send_woken_before_its_slot_waits_for_it_even_behind_a_cap() -> None:
    # The workflow wakes EARLY_WAKE before the slot: the activity waits for the slot
    # rather than going early or queueing again (here the hourly cap frees at the slot).
    slot = NOW + EARLY_WAKE
    sent = [slot - timedelta(hours=1), NOW - timedelta(minutes=5)]
    capped = account(min_interval_seconds=1, max_per_hour=2, next_send_at=slot + SECOND)
    t = turn(capped, reserved=slot, hour=sent, day=sent)
    assert t.deferral is None and t.wait_until == slot
    # A slot further away than a wake-up's margin is not waited for in the activity.
    far = turn(capped, reserved=NOW + EARLY_WAKE + SHORT_WAIT + SECOND, hour=sent, day=sent)
    assert far.deferral is not None


def test_no_interval_no_deferral() -> None:
    t = turn(account(last_sent_at=NOW, next_send_at=NOW))
    assert t.go and t.next_send_at == NOW
