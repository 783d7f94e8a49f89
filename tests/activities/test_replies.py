"""Replies and read receipts: rows, logs, signals, and catching up after a restart."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from temporalio.client import Client

from activities.listener import ReplyListener
from activities.telegram.base import Update
from activities.telegram.pool import ProviderPool
from db.models import FlowExecutionLog, Message, TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


async def logs_of(sessions: SessionFactory, cid: int, event: str) -> list[FlowExecutionLog]:
    async with sessions() as session:
        return list(
            await session.scalars(
                select(FlowExecutionLog)
                .where(FlowExecutionLog.campaign_id == cid, FlowExecutionLog.event_type == event)
                .order_by(FlowExecutionLog.id)
            )
        )


@pytest.mark.usefixtures("worker")
async def test_read_receipt_sets_read_time_and_logs(
    make_user: Any, sim: httpx.AsyncClient, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer])
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def delivered() -> bool:
        return bool((await sim.get(f"/peers/{peer}/messages")).json()["items"])

    await eventually(delivered)
    assert (await sim.post(f"/peers/{peer}/read", json={"account": phone})).status_code == 200

    async def read() -> Any:
        async with sessions() as session:
            return await session.scalar(select(Message.read_at).where(Message.campaign_id == cid))

    assert await eventually(read, timeout=5)
    assert len(await logs_of(sessions, cid, "message_read")) == 1


async def test_listener_catches_up_after_restart_without_duplicates(
    make_user: Any,
    sim: httpx.AsyncClient,
    sessions: SessionFactory,
    simulator_url: str,
    client: Client,
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer])
    account = await _leased_elsewhere(sessions, account_id)
    phone = account.phone
    for text in ("first", "second"):
        await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": text})

    async def inbound() -> int:
        return len(await _inbound_texts(sessions, account_id))

    async def run_listener_until(count: int) -> None:
        pool = ProviderPool(simulator_url)
        listener = ReplyListener(sessions, pool, client, account.lease_owner or "")
        async with sessions() as session:
            fresh = await session.get(TelegramAccount, account_id)
        assert fresh is not None
        task = asyncio.create_task(listener.listen(fresh))
        try:
            await eventually(lambda: _at_least(inbound, count), timeout=5)
            await asyncio.sleep(0.3)
        finally:
            task.cancel()
            await pool.close()

    await run_listener_until(2)
    await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": "third"})
    await run_listener_until(3)
    assert await inbound() == 3
    texts = [log.message_text for log in await logs_of(sessions, cid, "response_detected")]
    assert texts == ["first", "second", "third"]


async def _at_least(count_fn: Any, n: int) -> bool:
    return bool(await count_fn() >= n)


async def _leased_elsewhere(
    sessions: SessionFactory, account_id: int, **values: Any
) -> TelegramAccount:
    """Another (stopped) worker holds the account's lease, so the test decides when a
    listener runs for it."""
    async with sessions.begin() as session:
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                **{
                    "lease_owner": f"stopped-worker-{secrets.token_hex(3)}",
                    "lease_expires_at": datetime.now(UTC) + timedelta(hours=1),
                    **values,
                }
            )
        )
        account = await session.get(TelegramAccount, account_id)
    assert account is not None
    return account


async def _inbound_texts(sessions: SessionFactory, account_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Message.text)
            .where(Message.account_id == account_id, Message.direction == "in")
            .order_by(Message.id)
        )
        return list(rows)


def _reply_flow(timeout_seconds: int) -> dict[str, Any]:
    """hello, wait for a reply; on none a follow-up, on one the end."""
    return {
        "nodes": [
            {"id": "start", "type": "start"},
            {"id": "hello", "type": "send_message", "data": {"text": "hello"}},
            {"id": "wait", "type": "wait_for_reply", "data": {"timeout_seconds": timeout_seconds}},
            {"id": "nudge", "type": "send_message", "data": {"text": "follow-up"}},
            {"id": "end", "type": "end"},
            {"id": "done", "type": "end"},
        ],
        "edges": [
            {"source": "start", "target": "hello"},
            {"source": "hello", "target": "wait"},
            {"source": "wait", "target": "nudge", "label": "no_reply"},
            {"source": "wait", "target": "done", "label": "replied"},
            {"source": "nudge", "target": "end"},
        ],
    }


@pytest.mark.usefixtures("worker")
@pytest.mark.parametrize(("timeout_seconds", "final"), [(2, "responded"), (600, "completed")])
async def test_a_reply_while_no_listener_ran_is_acted_on_before_the_next_send(
    make_user: Any,
    sim: httpx.AsyncClient,
    sessions: SessionFactory,
    timeout_seconds: int,
    final: str,
) -> None:
    """The lead answers while no listener runs for the account (its worker is gone and
    the next holder has not caught up yet).

    With a short wait the timer fires meanwhile and the follow-up is due: it holds until
    a listener has fetched the reply, then does not go out (responded). With a long
    wait the reply reaches the workflow as a signal and it takes the `replied` edge.
    """
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(
        caller, [peer], flow=_reply_flow(timeout_seconds)
    )
    phone = (await caller.ok("get", f"/telegram-accounts/{account_id}"))["phone"]
    # A worker that no longer runs holds the account, caught up when it stopped: the
    # test worker drops its own listener at its next lease round (0.3 s).
    await _leased_elsewhere(sessions, account_id, updates_caught_up=True)
    await asyncio.sleep(1)
    await caller.ok("post", f"/campaign-flows/{cid}/launch")

    async def received() -> list[str]:
        items = (await sim.get(f"/peers/{peer}/messages")).json()["items"]
        return [m["text"] for m in items]

    await eventually(received)
    # Now no listener has caught up, until the lease expires and the test worker takes
    # the account over: after the short wait's timer has fired.
    await _leased_elsewhere(
        sessions,
        account_id,
        updates_caught_up=False,
        lease_expires_at=datetime.now(UTC) + timedelta(seconds=4),
    )
    await sim.post(f"/peers/{peer}/reply", json={"account": phone, "text": "interested!"})

    async def ended() -> Any:
        rows = (await caller.ok("get", f"/campaign-flows/{cid}/contacts"))["items"]
        return rows[0] if rows[0]["status"] in ("responded", "completed") else None

    row = await eventually(ended, timeout=30)
    assert row["status"] == final
    assert await received() == ["hello"]
    assert await _inbound_texts(sessions, account_id) == ["interested!"]
    assert len(await logs_of(sessions, cid, "response_detected")) == 1
    if final == "completed":
        branches = [
            log.details.get("branch")
            for log in await logs_of(sessions, cid, "campaign_activity")
            if log.node_id == "wait"
        ]
        assert branches == ["replied"]


async def test_two_listeners_on_one_account_handle_each_update_once(
    make_user: Any, sessions: SessionFactory, simulator_url: str, client: Client
) -> None:
    """A listener that lost its lease can overlap the new holder's for a moment."""
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    _, account_id, _ = await campaign_with_contacts(caller, [peer])
    update_one = Update(1, "message", peer, "only once", 901)
    first = ReplyListener(sessions, ProviderPool(simulator_url), client, "first")
    second = ReplyListener(sessions, ProviderPool(simulator_url), client, "second")
    await asyncio.gather(
        first.handle(account_id, update_one), second.handle(account_id, update_one)
    )
    assert await _inbound_texts(sessions, account_id) == ["only once"]
