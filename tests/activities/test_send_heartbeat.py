"""The send activity heartbeats, and holds a lead's send until its account's listener
has caught up on replies."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select, update
from temporalio.testing import ActivityEnvironment

from activities.sending import SendActivities
from activities.telegram.pool import ProviderPool
from db.models import CampaignFlow, FlowExecution, TelegramAccount
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique
from workflows.types import SendRequest


async def _unexpected(account_id: int, code: str) -> int:
    raise AssertionError("no account should lose its session here")


async def test_a_send_heartbeats_while_it_waits_for_the_listener_to_catch_up(
    make_user: Any, sessions: SessionFactory, sim: httpx.AsyncClient, simulator_url: str
) -> None:
    caller: Caller = await make_user(org=unique("org"))
    peer = unique()
    cid, account_id, _ = await campaign_with_contacts(caller, [peer])
    async with sessions.begin() as session:
        # Running as a launch leaves it, on an account a worker has just taken over.
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
        await session.execute(
            update(TelegramAccount)
            .where(TelegramAccount.id == account_id)
            .values(
                lease_owner=unique("worker"),
                lease_expires_at=datetime.now(UTC) + timedelta(hours=1),
                updates_caught_up=False,
            )
        )
        execution = await session.scalar(
            select(FlowExecution).where(FlowExecution.campaign_id == cid)
        )
        assert execution is not None
        execution.status = "running"
    request = SendRequest(
        execution_id=execution.id,
        generation=execution.generation,
        campaign_id=cid,
        node_id="hello",
        visit=1,
        text="hello",
        variant=None,
        next_node_id="end",
        context={},
        logs=[],
    )
    pool = ProviderPool(simulator_url)
    env = ActivityEnvironment()
    beats: list[Any] = []
    env.on_heartbeat = lambda *details: beats.append(details)
    sending = asyncio.create_task(
        env.run(SendActivities(sessions, pool, _unexpected).send_message, request)
    )
    try:
        await eventually(lambda: _true(len(beats) >= 2), timeout=10)
        assert not sending.done()
        assert (await sim.get(f"/peers/{peer}/messages")).json()["items"] == []
        async with sessions.begin() as session:
            await session.execute(
                update(TelegramAccount)
                .where(TelegramAccount.id == account_id)
                .values(updates_caught_up=True)
            )
        result = await asyncio.wait_for(sending, 10)
    finally:
        sending.cancel()
        await pool.close()
    assert result.outcome == "sent"
    items = (await sim.get(f"/peers/{peer}/messages")).json()["items"]
    assert [m["text"] for m in items] == ["hello"]


async def _true(value: bool) -> bool:
    return value
