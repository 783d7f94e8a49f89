"""The dry run's clock: the account's limits and the window, on a simulated clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from api.campaigns.dryrun import SimReply, walk
from api.campaigns.preview import send_clock
from api.campaigns.preview_account import NewConversation
from db.models import CampaignFlow, TelegramAccount
from workflows.flowgraph import parse
from workflows.warmup import Warmup, day_start, reopens_at

T0 = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)  # a Monday


def account(**kw: object) -> TelegramAccount:
    base: dict[str, object] = {
        "min_interval_seconds": 0,
        "max_per_hour": None,
        "max_per_day": None,
        "flood_wait_until": None,
        "cooldown_until": None,
        "next_send_at": None,
        "last_sent_at": None,
        "first_sent_at": None,
    }
    return TelegramAccount(**{**base, **kw})


def campaign(window: dict[str, Any] | None = None) -> CampaignFlow:
    return CampaignFlow(sending_window=window, timezone="UTC")


def test_interval_hourly_cap_and_flood_wait_push_sends_later() -> None:
    clock = send_clock(campaign(), account(min_interval_seconds=90), [T0 - timedelta(seconds=30)])
    at, held = clock(T0, [])
    assert at == T0 + timedelta(seconds=60) and held == ["minimum interval 90s"]
    capped = send_clock(campaign(), account(max_per_hour=2), [T0 - timedelta(minutes=50)])
    assert capped(T0, [])[0] == T0
    at, held = capped(T0 + timedelta(minutes=1), [T0])
    assert at == T0 + timedelta(minutes=10) and held == ["2/hour reached"]
    flood = send_clock(campaign(), account(flood_wait_until=T0 + timedelta(hours=1)), [])
    at, held = flood(T0, [])
    assert at == T0 + timedelta(hours=1) and "FLOOD_WAIT" in held[0]


def test_window_then_limits() -> None:
    window: dict[str, Any] = {"start": "09:00", "end": "17:00", "days": [0, 1, 2, 3, 4]}
    clock = send_clock(campaign(window), account(min_interval_seconds=60), [])
    at, held = clock(T0 + timedelta(hours=8), [])  # 18:00 Monday
    assert at == datetime(2030, 1, 8, 9, 0, tzinfo=UTC)
    assert held[0].startswith("outside the sending window 09:00-17:00")


FLOW = {
    "nodes": [
        {"id": "start", "type": "start"},
        {"id": "hi", "type": "send_message", "data": {"text": "Hi"}},
        {"id": "pause", "type": "delay", "data": {"seconds": 3600}},
        {"id": "again", "type": "send_message", "data": {"text": "Again"}},
        {"id": "end", "type": "end"},
    ],
    "edges": [
        {"source": "start", "target": "hi"},
        {"source": "hi", "target": "pause"},
        {"source": "pause", "target": "again"},
        {"source": "again", "target": "end"},
    ],
}


def test_a_reply_during_a_delay_ends_the_run_in_stop_mode_only() -> None:
    flow = parse(FLOW)

    def run(on_reply: str) -> list[str]:
        reply = SimReply("hi", "thanks", 60, "other")
        result = walk(
            flow,
            {},
            choice_key="1:1",
            start=T0,
            replies=[reply],
            send_clock=lambda at, sent: (at, []),
            on_reply=on_reply,
            max_sends=5,
        )
        return [result.stop.status, *(s.text for s in result.steps if s.text)]

    assert run("stop") == ["responded", "Hi"]
    assert run("continue") == ["completed", "Hi", "Again"]


def test_the_send_limit_fails_the_run() -> None:
    result = walk(
        parse(FLOW),
        {},
        choice_key="1:1",
        start=T0,
        replies=[],
        send_clock=lambda at, sent: (at, []),
        max_sends=1,
    )
    assert result.stop.status == "failed" and "limit of 1 messages" in (result.stop.error or "")


def test_a_reached_warmup_cap_holds_the_first_send_only() -> None:
    """The send path's hold (activities.rotation.gate): to the next day's reopening,
    spread by execution, with the cap's reason; a later send opens no conversation."""
    today = day_start(T0)
    capped = NewConversation(Warmup(3, 0, 3), today, started_today=3, execution_id=42)
    result = walk(
        parse(FLOW),
        {},
        choice_key="1:1",
        start=T0,
        replies=[],
        send_clock=send_clock(campaign(), account(min_interval_seconds=60), [], capped),
        max_sends=5,
    )
    hi, again = (s for s in result.steps if s.text)
    assert hi.at == reopens_at(T0, 42) and hi.at > today + timedelta(days=1)
    assert hi.held == ["new-conversation cap 3/day reached (warm-up day 1)"]
    assert again.at == hi.at + timedelta(hours=1) and again.held == []
    # Room left today: no hold.
    room = NewConversation(Warmup(3, 0, 3), today, started_today=2, execution_id=42)
    assert send_clock(campaign(), account(), [], room)(T0, []) == (T0, [])
