"""Exactly-once sends, Telegram faults and account health, through the simulator."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from db.models import FlowExecutionLog, Message
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique

pytestmark = pytest.mark.usefixtures("worker")


async def peer_texts(sim: httpx.AsyncClient, peer: str) -> list[str]:
    return [m["text"] for m in (await sim.get(f"/peers/{peer}/messages")).json()["items"]]


async def contact_rows(caller: Caller, cid: int) -> list[dict[str, Any]]:
    return list((await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"])


async def settled(caller: Caller, cid: int) -> list[dict[str, Any]] | None:
    rows = await contact_rows(caller, cid)
    done = {"completed", "failed", "responded", "cancelled"}
    return rows if rows and all(r["status"] in done for r in rows) else None


async def phone_of(caller: Caller, account_id: int) -> str:
    return str((await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"])


async def test_dropped_response_still_sends_exactly_once(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(3)]
    cid, account_id, _ = await campaign_with_contacts(caller, peers)
    phone = await phone_of(caller, account_id)
    # Every first attempt is delivered, then its answer is lost: the naive sender's double.
    await sim.post("/faults", json={"type": "drop_response", "account": phone, "times": 3})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    rows = await eventually(lambda: settled(caller, cid), timeout=30)
    assert {r["status"] for r in rows} == {"completed"}
    for peer in peers:
        assert await peer_texts(sim, peer) == [f"Hi {peer.capitalize()}"]
    async with sessions() as session:
        sent = list(await session.scalars(select(Message).where(Message.campaign_id == cid)))
    assert len(sent) == 3 and {m.status for m in sent} == {"sent"}
    async with sessions() as session:
        logged = list(
            await session.scalars(
                select(FlowExecutionLog.id).where(
                    FlowExecutionLog.campaign_id == cid,
                    FlowExecutionLog.event_type == "message_sent",
                )
            )
        )
    assert len(logged) == 3  # one message_sent row per message, whatever retries


async def test_privacy_error_fails_one_execution_only(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    private, open_ = unique(), unique()
    cid, _, _ = await campaign_with_contacts(caller, [private, open_])
    await sim.post("/faults", json={"type": "privacy_restricted", "peer": private})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    rows = await eventually(lambda: settled(caller, cid), timeout=20)
    by_name = {r["username"]: r for r in rows}
    assert by_name[private]["status"] == "failed"
    assert "privacy" in by_name[private]["error_message"].lower()
    assert by_name[open_]["status"] == "completed"
    assert await peer_texts(sim, open_) == [f"Hi {open_.capitalize()}"]
    assert await peer_texts(sim, private) == []


async def test_flood_wait_defers_with_reason_and_recovers(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique(), unique()]
    cid, account_id, _ = await campaign_with_contacts(caller, peers)
    phone = await phone_of(caller, account_id)
    await sim.post(
        "/faults",
        json={"type": "flood_wait", "account": phone, "seconds": 2, "after": 0, "times": 1},
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def flood_seen() -> bool:
        acct = await caller.ok("get", f"/telegram-accounts/{account_id}")
        return bool(acct["flood_wait_until"])

    await eventually(flood_seen, timeout=10)
    rows = await eventually(lambda: settled(caller, cid), timeout=30)
    assert {r["status"] for r in rows} == {"completed"}
    for peer in peers:
        assert len(await peer_texts(sim, peer)) == 1
    async with sessions() as session:
        reasons = [
            d["reason"]
            for d in await session.scalars(
                select(FlowExecutionLog.details).where(
                    FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == "deferred"
                )
            )
        ]
    assert "flood_wait" in reasons
    acct = await caller.ok("get", f"/telegram-accounts/{account_id}")
    assert acct["status"] == "connected"


async def test_min_interval_holds_and_each_waiting_send_is_deferred_once_with_a_reason(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peers = [unique() for _ in range(6)]
    cid, account_id, _ = await campaign_with_contacts(
        caller, peers, account={"min_interval_seconds": 1}
    )
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    await eventually(lambda: settled(caller, cid), timeout=30)
    async with sessions() as session:
        times = sorted(
            t
            for t in await session.scalars(
                select(Message.sent_at).where(Message.account_id == account_id)
            )
            if t is not None
        )
        reasons = [
            d["reason"]
            for d in await session.scalars(
                select(FlowExecutionLog.details).where(
                    FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == "deferred"
                )
            )
        ]
    assert len(times) == 6
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.99, gaps
    assert set(reasons) == {"rate_limit"}
    # Slots are reserved in order: the five that waited were deferred once each (waking
    # together and deferring again made it 5 + 4 + 3 + 2 + 1).
    assert len(reasons) <= 5, reasons


async def test_unauthorized_session_pauses_campaign_and_marks_account(
    make_user: Any, sim: httpx.AsyncClient
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer])
    phone = await phone_of(caller, account_id)
    await sim.post("/faults", json={"type": "unauthorized", "account": phone, "times": 1})
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def paused() -> bool:
        c = await caller.ok("get", f"/campaign-flows/{cid}")
        return bool(c["status"] == "paused")

    await eventually(paused, timeout=15)
    # The campaign says why it paused, and so does its lead's log.
    campaign = await caller.ok("get", f"/campaign-flows/{cid}")
    assert "AUTH_KEY_UNREGISTERED" in campaign["status_reason"]

    async def logged() -> list[dict[str, Any]]:
        rows = (await caller.ok("get", f"/campaign-flows/{cid}/logs"))["items"]
        return [r for r in rows if r["status"] == "paused"]

    (entry,) = await eventually(logged, timeout=15)
    assert "unauthorized" in entry["details"]["reason"]
    acct = await caller.ok("get", f"/telegram-accounts/{account_id}")
    assert acct["status"] == "unauthorized" and "AUTH_KEY_UNREGISTERED" in acct["status_reason"]
    again = await caller.post(f"/campaign-flows/{cid}/launch")
    assert again.status_code == 409 and again.json()["code"] == "account_unhealthy"
    await asyncio.sleep(0.5)
    assert await peer_texts(sim, peer) == []


async def test_sending_window_holds_in_the_campaigns_timezone(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    zone = "Asia/Kathmandu"  # UTC+05:45: a window that is closed now, there
    local = datetime.now(UTC).astimezone(ZoneInfo(zone))
    opens = (local + timedelta(hours=2)).replace(second=0, microsecond=0)
    window = {
        "days": list(range(7)),
        "start": opens.strftime("%H:%M"),
        "end": (opens + timedelta(minutes=30)).strftime("%H:%M"),
    }
    if window["end"] < window["start"]:
        pytest.skip("window would wrap midnight at this hour")
    cid, _, _ = await campaign_with_contacts(caller, [peer], sending_window=window, timezone=zone)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def deferred() -> Any:
        rows = await contact_rows(caller, cid)
        return rows if rows[0]["status"] == "waiting" else None

    rows = await eventually(deferred, timeout=10)
    wake = datetime.fromisoformat(rows[0]["next_execution_at"])
    assert wake == opens.astimezone(UTC)
    async with sessions() as session:
        reasons = [
            d["reason"]
            for d in await session.scalars(
                select(FlowExecutionLog.details).where(
                    FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == "deferred"
                )
            )
        ]
    assert reasons == ["outside_window"]
    assert await peer_texts(sim, peer) == []
    await caller.ok("post", f"/campaign-flows/{cid}/stop")


async def test_an_account_without_limits_never_defers_concurrent_sends(
    make_user: Any, sessions: SessionFactory
) -> None:
    # Sends of one account run in parallel; with no interval, none may wait for another
    # (a send time read before the account lock was older than the send it queued behind,
    # so most sends were deferred once for nothing and ran twice).
    caller: Caller = await make_user(org=unique("org"))
    cid, _, _ = await campaign_with_contacts(caller, [unique() for _ in range(24)])
    await caller.ok("post", f"/campaign-flows/{cid}/launch")
    rows = await eventually(lambda: settled(caller, cid), timeout=30)
    assert {r["status"] for r in rows} == {"completed"}
    async with sessions() as session:
        deferred = list(
            await session.scalars(
                select(FlowExecutionLog.details).where(
                    FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == "deferred"
                )
            )
        )
    assert deferred == []
