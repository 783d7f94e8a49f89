"""Campaign actions and workers lock rows in an order that cannot deadlock."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import CampaignFlow, FlowExecution
from db.repositories import campaigns as campaign_repo
from db.repositories import completion, execution_logs
from db.repositories import executions as exec_repo
from db.session import SessionFactory
from tests.conftest import Caller, campaign_with_contacts, eventually, unique


async def _lock_waiters(sessions: SessionFactory, which: str) -> int:
    """Sessions of this database waiting for a lock, narrowed by an SQL condition."""
    async with sessions() as session:
        return int(
            await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    f"AND wait_event_type = 'Lock' AND {which}"
                )
            )
            or 0
        )


async def _waiting_to_update_executions(sessions: SessionFactory) -> int:
    return await _lock_waiters(sessions, "query LIKE 'UPDATE flow_executions%'")


async def test_action_waits_for_a_worker_that_writes_logs_and_does_not_deadlock(
    make_user: Any, sessions: SessionFactory
) -> None:
    caller: Caller = await make_user()
    cid, _, contacts = await campaign_with_contacts(caller, [unique(), unique()])
    async with sessions() as session:
        eid = await session.scalar(
            select(FlowExecution.id).where(
                FlowExecution.campaign_id == cid, FlowExecution.contact_id == contacts[0]
            )
        )
    assert eid is not None
    # What record_step and finish_execution do: lock the execution, then insert log
    # rows, whose foreign key check takes FOR KEY SHARE on the campaign row.
    async with sessions.begin() as worker_tx:
        locked = await exec_repo.lock_execution(worker_tx, eid, campaign_id=cid)
        assert locked is not None
        removal = asyncio.create_task(
            caller.delete(f"/campaign-flows/{cid}/contacts", json={"contact_ids": [contacts[0]]})
        )
        # The api now holds the campaign and waits for the execution this worker holds.
        await eventually(lambda: _waiting_to_update_executions(sessions))
        await execution_logs.add_logs(
            worker_tx,
            locked[0],
            [{"node_id": "hello", "event_type": "campaign_activity", "status": "completed"}],
        )
    response = await removal
    assert response.status_code == 200, response.text
    assert response.json() == {"removed": 1}


async def test_campaign_is_not_completed_while_contacts_are_being_added(
    make_user: Any, sessions: SessionFactory
) -> None:
    """The last execution finishes while the api adds contacts to the active campaign."""
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique()])
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
        await session.execute(
            update(FlowExecution).where(FlowExecution.campaign_id == cid).values(status="completed")
        )
    late = await caller.ok("post", "/contacts", json={"username": unique()})
    # What adding contacts does: lock the campaign, insert a pending execution.
    async with sessions() as api_tx, sessions() as worker:
        async with api_tx.begin():
            await campaign_repo.get_for_update(api_tx, cid)
            api_tx.add(FlowExecution(campaign_id=cid, contact_id=late["id"], status="pending"))
            await api_tx.flush()
            check = asyncio.create_task(_complete(worker, cid))
            await asyncio.sleep(0.5)  # the check runs while the contact is being added
        completed = await check
    assert completed is False
    async with sessions() as session:
        status = await session.scalar(select(CampaignFlow.status).where(CampaignFlow.id == cid))
    assert status == "active"


async def _complete(session: AsyncSession, campaign_id: int) -> bool:
    async with session.begin():
        return await completion.complete_campaign_if_done(session, campaign_id)


async def _waiting_on_fence(sessions: SessionFactory, at_least: int = 1) -> bool:
    return await _lock_waiters(sessions, "wait_event = 'advisory'") >= at_least


async def test_pause_waits_for_sends_under_way_and_later_sends_wait_for_the_pause(
    make_user: Any, sessions: SessionFactory
) -> None:
    """A steady stream of sends cannot hold a pause back: a send that comes after the
    pause queues behind it and then sees the campaign paused."""
    caller: Caller = await make_user()
    cid, _, _ = await campaign_with_contacts(caller, [unique(), unique()])
    async with sessions.begin() as session:
        await session.execute(
            update(CampaignFlow).where(CampaignFlow.id == cid).values(status="active")
        )
        first, second = list(
            await session.scalars(
                select(FlowExecution.id)
                .where(FlowExecution.campaign_id == cid)
                .order_by(FlowExecution.id)
            )
        )

    async def later_send() -> str:
        async with sessions.begin() as tx:
            locked = await exec_repo.lock_execution(tx, second, campaign_id=cid, hold_campaign=True)
            assert locked is not None
            return locked[1].status

    async with sessions.begin() as under_way:
        # What the send activity does first: hold the fence, lock its execution.
        locked = await exec_repo.lock_execution(
            under_way, first, campaign_id=cid, hold_campaign=True
        )
        assert locked is not None and locked[1].status == "active"
        pause = asyncio.create_task(caller.post(f"/campaign-flows/{cid}/pause"))
        await eventually(lambda: _waiting_on_fence(sessions))
        later = asyncio.create_task(later_send())
        await eventually(lambda: _waiting_on_fence(sessions, at_least=2))
        assert not pause.done() and not later.done()
    response = await pause
    assert response.status_code == 200, response.text
    assert await later == "paused"
