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
        listener = ReplyListener(sessions, pool, client)
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
                lease_owner=f"stopped-worker-{secrets.token_hex(3)}",
                lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
                **values,
            )
        )
        account = await session.get(TelegramAccount, account_id)
    assert account is not None
    return account


class _ProcessLocalUpdates:
    """A provider whose update offsets count from 1 in each process, like Telethon's."""

    durable_offsets = False

    def __init__(self, updates: list[Update]) -> None:
        self._updates = updates

    async def get_updates(self, after: int, timeout: float) -> list[Update]:
        if len(self._updates) <= after:
            await asyncio.sleep(timeout)
        return self._updates[after:]

    async def close(self) -> None:
        return None


async def _inbound_texts(sessions: SessionFactory, account_id: int) -> list[str]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Message.text)
            .where(Message.account_id == account_id, Message.direction == "in")
            .order_by(Message.id)
        )
        return list(rows)


async def test_listener_reads_process_local_offsets_from_the_start(
    make_user: Any, sessions: SessionFactory, simulator_url: str, client: Client
) -> None:
    """After a restart a Telethon listener starts at its first update, whatever is stored."""
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    _, account_id, _ = await campaign_with_contacts(caller, [peer])
    # 57: the offset the previous process left.
    account = await _leased_elsewhere(sessions, account_id, updates_offset=57)
    pool = ProviderPool(simulator_url)
    pool._providers[account_id] = _ProcessLocalUpdates(  # type: ignore[assignment]
        [Update(1, "message", peer, "after restart", 900)]
    )
    task = asyncio.create_task(ReplyListener(sessions, pool, client).listen(account))
    try:
        await eventually(lambda: _inbound_texts(sessions, account_id))
    finally:
        task.cancel()
        await pool.close()
    assert await _inbound_texts(sessions, account_id) == ["after restart"]


async def test_two_listeners_on_one_account_handle_each_update_once(
    make_user: Any, sessions: SessionFactory, simulator_url: str, client: Client
) -> None:
    """A listener that lost its lease can overlap the new holder's for a moment."""
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    _, account_id, _ = await campaign_with_contacts(caller, [peer])
    update_one = Update(1, "message", peer, "only once", 901)
    first = ReplyListener(sessions, ProviderPool(simulator_url), client)
    second = ReplyListener(sessions, ProviderPool(simulator_url), client)
    await asyncio.gather(
        first.handle(account_id, update_one), second.handle(account_id, update_one)
    )
    assert await _inbound_texts(sessions, account_id) == ["only once"]
