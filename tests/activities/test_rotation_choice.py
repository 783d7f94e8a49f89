"""Which account a new lead is pinned to (pure, milliseconds)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from db.models import TelegramAccount
from db.repositories.rotation import AccountLoad
from workflows.rotation_choice import Capacity, capacity_of, choose

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def cap(account_id: int, free: int | None, per_day: int | None = None, **kw: object) -> Capacity:
    return Capacity(
        account_id=account_id,
        usable=bool(kw.get("usable", True)),
        free_today=free,
        per_day=per_day if per_day is not None else free,
        backlog=int(str(kw.get("backlog", 0))),
        cooling=bool(kw.get("cooling", False)),
    )


def test_leads_shared_in_proportion_to_free_capacity() -> None:
    chosen = choose([cap(1, 20), cap(2, 10)], 30)
    assert Counter(chosen) == {1: 20, 2: 10}
    # Interleaved, not one account first: both start today.
    assert set(chosen[:3]) == {1, 2}


def test_backlog_counts_leads_already_waiting() -> None:
    assert Counter(choose([cap(1, 10, backlog=10), cap(2, 10)], 10)) == {2: 10}


def test_beyond_today_proportional_to_daily_capacity() -> None:
    chosen = choose([cap(1, 0, per_day=30), cap(2, 0, per_day=10)], 40)
    assert Counter(chosen) == {1: 30, 2: 10}


def test_unusable_accounts_get_no_leads_unless_none_is_usable() -> None:
    assert set(choose([cap(1, 100, usable=False), cap(2, 1)], 5)) == {2}
    assert choose([cap(1, 5, usable=False)], 2) == [1, 1]
    assert choose([], 3) == []


def test_cooling_account_comes_after_free_ones() -> None:
    chosen = choose([cap(1, 10, cooling=True), cap(2, 3)], 3)
    assert chosen == [2, 2, 2]


def test_uncapped_accounts_alternate() -> None:
    assert Counter(choose([cap(1, None), cap(2, None)], 10)) == {1: 5, 2: 5}


def test_capacity_of_takes_the_tighter_of_warmup_and_send_cap() -> None:
    account = TelegramAccount(
        id=7,
        status="connected",
        max_per_day=50,
        warmup_start_per_day=10,
        warmup_increase_per_day=5,
        warmup_max_per_day=40,
        first_sent_at=NOW - timedelta(days=1),
    )
    got = capacity_of(AccountLoad(account, started_today=4, sent_last_day=45, backlog=2), NOW)
    # Day 2: cap 15, 11 left; the send cap leaves 5.
    assert (got.free_today, got.per_day, got.backlog, got.usable) == (5, 15, 2, True)
    account.status = "banned"
    assert not capacity_of(AccountLoad(account, 0, 0, 0), NOW).usable
